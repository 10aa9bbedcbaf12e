from django.urls import path

from accounts.sso import views

app_name = "sso"

urlpatterns = [
    path("login/sso/", views.login_sso, name="login"),
    path("login/sso/continue/", views.login_sso_continue, name="continue"),
    path("login/sso/callback/", views.login_sso_callback, name="callback"),
    path("login/sso/confirm/", views.login_sso_reauth, name="reauth"),
    path("settings/security/sso/", views.connection_save, name="connection"),
    path("settings/security/sso/test/", views.connection_test, name="test"),
    path("settings/security/sso/domains/", views.domain_add, name="domain-add"),
    path(
        "settings/security/sso/domains/<int:domain_id>/verify/",
        views.domain_verify,
        name="domain-verify",
    ),
    path(
        "settings/security/sso/domains/<int:domain_id>/remove/",
        views.domain_remove,
        name="domain-remove",
    ),
    path(
        "settings/team/<int:member_id>/single-sign-on/",
        views.member_convert,
        name="member-convert",
    ),
]
