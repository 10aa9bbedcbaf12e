"""The "Support" group: the least permissions support staff need to find members, read the
security log, and remove and re-add members. Nothing that changes a factor or a password."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support"
SUPPORT_PERMISSIONS = [
    ("accounts", "view_account"),
    ("accounts", "view_user"),
    ("accounts", "support_member"),
    ("security", "view_securityevent"),
]


def support_group_create(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now so the group can
    # hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=SUPPORT_GROUP)
    for app_label, codename in SUPPORT_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def support_group_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=SUPPORT_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_support_permission"),
        ("security", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(support_group_create, support_group_delete)]
