from django.urls import path

from security import views

app_name = "security"

urlpatterns = [
    path("personal/", views.personal, name="personal"),
    path("personal/confirm/", views.reauth, name="reauth"),
    path("personal/two-factor/", views.manage, name="manage"),
    path("personal/two-factor/setup/", views.enroll, name="enroll"),
    path("personal/two-factor/setup/codes/", views.enroll_codes, name="enroll-codes"),
    path(
        "personal/two-factor/setup/codes.txt",
        views.enroll_codes_download,
        name="enroll-codes-download",
    ),
    path(
        "personal/two-factor/setup/codes/print/",
        views.enroll_codes_print,
        name="enroll-codes-print",
    ),
    path("personal/two-factor/setup/app/", views.enroll_app, name="enroll-app"),
    path("personal/two-factor/setup/done/", views.enroll_done, name="enroll-done"),
    path("personal/two-factor/codes/", views.recovery_codes, name="recovery-codes"),
    path(
        "personal/two-factor/codes.txt",
        views.recovery_codes_download,
        name="recovery-codes-download",
    ),
    path(
        "personal/two-factor/codes/print/", views.recovery_codes_print, name="recovery-codes-print"
    ),
    path(
        "personal/two-factor/codes/regenerate/",
        views.recovery_codes_regenerate,
        name="recovery-codes-regenerate",
    ),
    path("personal/two-factor/remove/", views.totp_remove, name="totp-remove"),
    path("security/", views.security_page, name="security"),
]
