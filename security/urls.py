from django.urls import path

from security import views
from security.export import views as export
from security.passkeys import views as passkeys
from security.recovery_codes import views as recovery_codes
from security.totp import views as totp

app_name = "security"

urlpatterns = [
    path("personal/", views.personal, name="personal"),
    path("personal/confirm/", views.reauth, name="reauth"),
    path("personal/two-factor/", totp.manage, name="manage"),
    path("personal/two-factor/setup/", totp.enroll, name="enroll"),
    path("personal/two-factor/setup/codes/", recovery_codes.enroll_codes, name="enroll-codes"),
    path(
        "personal/two-factor/setup/codes.txt",
        recovery_codes.enroll_codes_download,
        name="enroll-codes-download",
    ),
    path(
        "personal/two-factor/setup/codes/print/",
        recovery_codes.enroll_codes_print,
        name="enroll-codes-print",
    ),
    path("personal/two-factor/setup/app/", totp.enroll_app, name="enroll-app"),
    path("personal/two-factor/setup/done/", totp.enroll_done, name="enroll-done"),
    path("personal/two-factor/codes/", recovery_codes.recovery_codes, name="recovery-codes"),
    path(
        "personal/two-factor/codes.txt",
        recovery_codes.recovery_codes_download,
        name="recovery-codes-download",
    ),
    path(
        "personal/two-factor/codes/print/",
        recovery_codes.recovery_codes_print,
        name="recovery-codes-print",
    ),
    path(
        "personal/two-factor/codes/regenerate/",
        recovery_codes.recovery_codes_regenerate,
        name="recovery-codes-regenerate",
    ),
    path("personal/two-factor/remove/", totp.totp_remove, name="totp-remove"),
    path("personal/passkeys/", passkeys.passkey_list, name="passkeys"),
    path("personal/passkeys/add/", passkeys.passkey_add, name="passkey-add"),
    path("personal/passkeys/add/codes/", passkeys.passkey_codes, name="passkey-codes"),
    path("personal/passkeys/<int:pk>/rename/", passkeys.passkey_rename, name="passkey-rename"),
    path("personal/passkeys/<int:pk>/remove/", passkeys.passkey_remove, name="passkey-remove"),
    path("security/", views.security_page, name="security"),
    path("security/requirement/", views.requirement_confirm, name="requirement-confirm"),
    path("security/export/", export.security_log_export, name="security-export"),
]
