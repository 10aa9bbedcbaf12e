"""What every ModelAdmin of ours accepts from a query string and an action form: exactly what
its pages offer, nothing Django would also take.

Django's changelist accepts a lookup on any field of the model in its query string
(``?password__startswith=argon2``) unless ``lookup_allowed`` says no: each answer, filtered or
not, is a yes/no question about a password hash, a TOTP secret, a recovery-code digest or a
security stamp. Here only the parameters of the filters in ``list_filter`` pass; anything else
is refused with Django's ``DisallowedModelAdminLookup`` (a 400) and recorded as a security
event, with the lookup's name and never the value tried.

An action's ``_selected_action`` must name rows of the changelist by their primary key; a
malformed or unknown one is a 400 and the action does nothing (Django answers 500 for
``abc`` and quietly skips ids it does not find).

The autocomplete endpoint answers only for a relation a model declares (``autocomplete_view``),
and the password change page's old-password guesses are limited as re-authentication's are.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.filters import FieldListFilter, ListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse

from security.events import NO_AUDIT, Audit, Kind, event_record
from twofactor_site.ratelimits import rate, ratelimit, user_key

_OFFERED_ATTR = "_twofactor_offered_lookups"
# Far above any primary key we will have, within every database's BIGINT: a larger number
# is malformed input, not an id (PostgreSQL would refuse the query).
MAX_PRIMARY_KEY = 2**63 - 1


def offered_lookups(model_admin: admin.ModelAdmin, request: HttpRequest) -> frozenset[str]:
    """The query-string parameters the filters in ``model_admin``'s sidebar use."""
    cached = getattr(request, _OFFERED_ATTR, {}).get(type(model_admin))
    if cached is not None:
        return cached
    names: set[str] = set()
    model = model_admin.model
    for list_filter in model_admin.get_list_filter(request):
        if isinstance(list_filter, type) and issubclass(list_filter, ListFilter):
            spec = list_filter(request, {}, model, model_admin)
        else:
            if isinstance(list_filter, (tuple, list)):
                field_path, filter_class = list_filter
            else:
                field_path, filter_class = list_filter, FieldListFilter.create
            field = get_fields_from_path(model, field_path)[-1]
            spec = filter_class(field, request, {}, model, model_admin, field_path=field_path)
        names.update(spec.expected_parameters())
    offered = frozenset(names)
    if not hasattr(request, _OFFERED_ATTR):
        setattr(request, _OFFERED_ATTR, {})
    getattr(request, _OFFERED_ATTR)[type(model_admin)] = offered
    return offered


class OfferedLookupsOnlyMixin:
    """Put first in the bases of every ModelAdmin (see the module docstring)."""

    def lookup_allowed(self, lookup: str, value, request: HttpRequest | None = None) -> bool:
        if request is not None and lookup in offered_lookups(self, request):
            return True
        event_record(
            kind=Kind.ADMIN_LOOKUP_REFUSED,
            audit=Audit.of(request) if request is not None else NO_AUDIT,
            model=self.model._meta.label_lower,
            lookup=lookup[:100],
        )
        return False

    def response_action(self, request: HttpRequest, queryset, **kwargs) -> HttpResponse | None:
        from twofactor_site.views import bad_request

        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        pk_field = self.model._meta.pk
        try:
            pks = {pk_field.to_python(value) for value in selected}
        except ValidationError:
            return bad_request(request, None)
        if any(isinstance(pk, int) and not 0 < pk <= MAX_PRIMARY_KEY for pk in pks):
            return bad_request(request, None)
        if pks and queryset.filter(pk__in=pks).count() != len(pks):
            # An id that is not a row of this (filtered) list: a stale page or a forged form.
            return bad_request(request, None)
        # Django 6.x passes action_location (top or bottom of the list) too.
        return super().response_action(request, queryset, **kwargs)


class ReadOnlyAdminMixin:
    """A record that is evidence (the security log, the outgoing mail): listed and opened in the
    admin, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def autocomplete_view(request: HttpRequest) -> HttpResponse:
    """Django's autocomplete of related rows (``admin.site.autocomplete_view``), for a field
    that is a relation its model declares. Django also takes a reverse one
    (``?app_label=auth&model_name=group&field_name=user``) and then fails on it, a 500; it is
    refused as Django refuses any other field it cannot use (403)."""
    try:
        model = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        field = model._meta.get_field(request.GET["field_name"])
    except (KeyError, LookupError, ValueError, FieldDoesNotExist):
        raise PermissionDenied from None
    if field.auto_created and not field.concrete:
        raise PermissionDenied
    return AutocompleteJsonView.as_view(admin_site=admin.site)(request)


@ratelimit(group="reauth", key=user_key, rate=rate("RATELIMIT_REAUTH_USER"), method="POST")
def password_change(request: HttpRequest, extra_context=None) -> HttpResponse:
    """Django's admin password change (``admin.site.password_change``), which asks for the old
    password: its guesses count against the member's re-authentication budget, the same
    question asked on our own page (security.views.reauth), instead of none at all."""
    return admin.AdminSite.password_change(admin.site, request, extra_context)
