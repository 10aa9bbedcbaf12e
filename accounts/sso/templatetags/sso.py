"""The SSO parts of pages owned elsewhere: the Security page's section, Team Members' action."""

from __future__ import annotations

from django import template

from accounts.sso.forms import ConnectionForm, DomainForm
from accounts.sso.models import Connection
from accounts.sso.services import redirect_uri

register = template.Library()


def security_section_context(request, *, form=None, domain_form=None) -> dict:
    account = request.user.account
    connection = Connection.objects.filter(account=account).first()
    if form is None:
        initial = (
            {
                "issuer": connection.issuer,
                "client_id": connection.client_id,
                "enabled": connection.enabled,
                "jit_provisioning": connection.jit_provisioning,
            }
            if connection
            else {}
        )
        form = ConnectionForm(initial=initial)
    domains = list(account.sso_domains.all())
    return {
        "request": request,
        "connection": connection,
        "sso_form": form,
        "domain_form": domain_form or DomainForm(),
        "domains": domains,
        "redirect_uri": redirect_uri(),
        "routing": bool(connection and connection.enabled and any(d.is_verified for d in domains)),
    }


@register.inclusion_tag("sso/_security_section.html", takes_context=True)
def sso_security_section(context) -> dict:
    context_data = security_section_context(context["request"])
    context_data["csrf_token"] = context.get("csrf_token")
    return context_data


@register.simple_tag(takes_context=True)
def sso_routing_on(context) -> bool:
    """Whether the signed-in admin's team can sign members in with SSO (on, and a verified
    domain), so Team Members offers to switch password members."""
    user = context["request"].user
    return bool(
        user.account_id
        and Connection.objects.filter(
            account_id=user.account_id,
            enabled=True,
            account__sso_domains__verified_at__isnull=False,
        ).exists()
    )
