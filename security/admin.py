from django.contrib import admin

from security.models import SecurityEvent
from twofactor_site.admin_guard import OfferedLookupsOnlyMixin, ReadOnlyAdminMixin


@admin.register(SecurityEvent)
class SecurityEventAdmin(OfferedLookupsOnlyMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: the log is evidence."""

    list_display = ["created_at", "kind", "user_email", "actor_email", "account", "ip", "device"]
    list_filter = ["kind", "account", "created_at"]
    search_fields = ["user_email", "actor_email", "ip"]
    list_select_related = ["account"]
