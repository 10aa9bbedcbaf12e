"""The support admin: find any account's members, see their second factor, remove and re-add
them. It never shows a TOTP secret, a recovery code or a password hash."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import stages
from accounts.models import Account, User
from accounts.services import MemberError, member_readd, member_remove
from accounts.user_sessions import member_deactivation_describe, member_sessions_end, sessions_of
from security.events import Audit
from twofactor_site.admin_guard import OfferedLookupsOnlyMixin


class SecondFactorFilter(admin.SimpleListFilter):
    title = _("second factor")
    parameter_name = "factor"

    # The factors come from the second steps' registry (accounts.stages): this admin knows none.
    def lookups(self, request, model_admin):
        factors = [(step.factor, step.name) for step in stages.listed_factors()]
        return [
            (stages.EMAIL_LINK.factor, stages.EMAIL_LINK.name),
            *factors,
            ("sso", _("Single sign-on")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "sso":
            return queryset.filter(identity=User.Identity.SSO)
        passwords = queryset.filter(identity=User.Identity.PASSWORD)
        if value == stages.EMAIL_LINK.factor:
            return stages.factor_filter(passwords, None)
        return stages.factor_filter(passwords, value)


@admin.register(User)
class UserAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    # Five columns that fit a 1280 px screen beside the filters: the name goes under the email,
    # and "Single sign-on" under second factor says what the identity column did.
    list_display = ["member", "account", "role", "second_factor", "last_sign_in"]
    list_display_links = ["member"]
    list_filter = ["account", "role", "identity", SecondFactorFilter, "is_staff", "is_active"]
    search_fields = ["email", "name", "account__name"]
    list_select_related = ["account"]
    ordering = ["email"]
    # No password, security stamp, secrets or codes: only what support needs to see.
    fields = [
        "email",
        "name",
        "account",
        "role",
        "identity",
        "second_factor",
        "is_active",
        "is_staff",
        "groups",
        "last_login",
        "signed_in",
        "date_joined",
    ]
    # Team, role and identity change only through the product (Team page, invitations, the
    # support actions below), which record a security event and keep the last Account Admin.
    readonly_fields = [
        "account",
        "role",
        "identity",
        "second_factor",
        "last_login",
        "signed_in",
        "date_joined",
    ]
    filter_horizontal = ["groups"]
    actions = ["remove_members", "readd_members", "sign_out_members"]

    def get_queryset(self, request):
        return stages.with_factors(super().get_queryset(request))

    def save_model(self, request, obj, form, change):
        # Deactivating signs the member out everywhere and ends their trusted browsers, as
        # every path that saves is_active off does (accounts.user_sessions.user_saved): this
        # names who did it.
        member_deactivation_describe(obj, audit=Audit.of(request), by=request.user)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("member"), ordering="email")
    def member(self, user: User) -> str:
        if not user.name:
            return user.email
        return format_html('{}<br><span class="quiet">{}</span>', user.email, user.name)

    @admin.display(description=_("last sign-in"), ordering="last_login", empty_value=_("Never"))
    def last_sign_in(self, user: User):
        return user.last_login

    @admin.display(description=_("second factor"))
    def second_factor(self, user: User) -> str:
        return ", ".join(stages.factor_names(user))

    @admin.display(description=_("signed in"))
    def signed_in(self, user: User) -> str:
        """Where the member is signed in (accounts.user_sessions): browser, IP, last seen."""
        sessions = sessions_of(user) if user.pk else []
        if not sessions:
            return _("Nowhere")
        lines = [
            (s.browser or _("Unknown browser"), s.ip or "—", s.last_seen.strftime("%Y-%m-%d %H:%M"))
            for s in sessions
        ]
        return format_html_join(mark_safe("<br>"), _("{} from {}, last seen {} UTC"), lines)  # noqa: S308

    def has_support_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.support_member")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Members join through an account's Team page or the add_member command, which send
        # the invitation; a bare row made here would have no way to set a password.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Deleting would skip member_remove: no security event, no last-admin guard. The
        # "Remove from their team" action is the way.
        return False

    @admin.action(description=_("Remove from their team"), permissions=["support"])
    def remove_members(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = self._each(request, queryset, member_remove)
        if done:
            message = ngettext("Removed %(n)d member.", "Removed %(n)d members.", done)
            self.message_user(request, message % {"n": done})

    @admin.action(
        description=_("Remove and re-add (new password invitation, 2FA reset, signed out)"),
        permissions=["support"],
    )
    def readd_members(self, request: HttpRequest, queryset: QuerySet[User]):
        """First a page that names each member and says what will happen; its button posts
        again with ``post=yes``, and only that does it."""
        members = list(queryset.filter(account__isnull=False).select_related("account"))
        if request.POST.get("post") != "yes":
            return self._readd_confirmation(request, members)
        self._readd(request, members)
        return None

    @admin.action(description=_("Sign out everywhere"), permissions=["support"])
    def sign_out_members(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = self._each(request, queryset, member_sessions_end)
        if done:
            message = ngettext(
                "Signed %(n)d member out everywhere.", "Signed %(n)d members out everywhere.", done
            )
            self.message_user(request, message % {"n": done})

    def readd_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The same, from the member's own admin page."""
        if not self.has_support_permission(request):
            raise PermissionDenied
        member = self.get_object(request, object_id)
        if member is None or member.account_id is None:
            raise Http404
        if request.method == "POST":
            done = self._readd(request, [member])
            if done:
                fresh = User.objects.get(email=member.email)
                return redirect("admin:accounts_user_change", fresh.pk)
            return redirect("admin:accounts_user_change", member.pk)
        return self._readd_confirmation(request, [member], single=True)

    def _readd_confirmation(self, request, members: list[User], single: bool = False):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Remove and re-add?"),
            "opts": self.model._meta,
            "members": members,
            "single": single,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/accounts/user/readd_confirmation.html", context)

    def _readd(self, request: HttpRequest, members: list[User]) -> int:
        done = self._each(request, members, member_readd)
        if done:
            message = ngettext(
                "Re-added %(n)d member; they were emailed an invitation.",
                "Re-added %(n)d members; they were emailed an invitation.",
                done,
            )
            self.message_user(request, message % {"n": done})
        return done

    def get_urls(self):
        readd = path(
            "<path:object_id>/readd/",
            self.admin_site.admin_view(self.readd_view),
            name="accounts_user_readd",
        )
        return [readd, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_readd": self.has_support_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _each(self, request: HttpRequest, members, service) -> int:
        done = 0
        audit = Audit.of(request)
        if isinstance(members, QuerySet):
            members = members.filter(account__isnull=False).select_related("account")
        for member in members:
            try:
                service(audit=audit, member=member, by=request.user)
            except MemberError as error:
                self.message_user(request, f"{member.email}: {error}", messages.ERROR)
                continue
            done += 1
        return done


class MemberInline(admin.TabularInline):
    model = User
    fields = ["email", "name", "role", "identity", "last_login"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "require_totp", "member_count", "created_at"]
    list_filter = ["require_totp"]
    search_fields = ["name", "members__email"]
    inlines = [MemberInline]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # Support may rename a team; the rest (the requirement, its date, trusted browsers) is
        # the Account Admins' decision, made on their Security page, where each change has its
        # side effects (trusts ended, members emailed) and its security event.
        return [f.name for f in Account._meta.concrete_fields if f.name not in ("id", "name")]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=Count("members"))

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Deleting a team would delete every member without a trace in the security log.
        return False

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, account: Account) -> int:
        return account.member_total


# Django's own Group admin, with the same guard: ``?user__password__startswith=`` from the
# groups list must be refused like any other lookup the page does not offer.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(OfferedLookupsOnlyMixin, auth_admin.GroupAdmin):
    pass
