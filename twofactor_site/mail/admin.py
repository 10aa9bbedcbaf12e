"""Queued and failed emails in the admin, read-only: the address, which email, its state and
the error's type. Never the context (it is encrypted; it holds sign-in links)."""

from django.contrib import admin
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from twofactor_site.admin_guard import OfferedLookupsOnlyMixin, ReadOnlyAdminMixin
from twofactor_site.mail.models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(OfferedLookupsOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "name",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "sent_at",
    ]
    list_filter = ["status", "name", "created_at"]
    search_fields = ["recipient"]
    fields = ["recipient", "name", "status", "attempts", "created_at", "next_attempt_at"]
    fields += ["sent_at", "last_error"]
    readonly_fields = fields


# The library's task list, behind the same guard as ours (its filters only): a task's
# arguments are an email's id, nothing more.
admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(OfferedLookupsOnlyMixin, DBTaskResultAdmin):
    pass
