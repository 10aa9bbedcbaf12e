from django.urls import path

from accounts import password_views, session_views, stages, team_views, trust_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("login/email-sent/", views.login_email_sent, name="login-email-sent"),
    path("login/resend/", views.login_resend, name="login-resend"),
    path("login/cancel/", views.login_cancel, name="login-cancel"),
    path("login/switch/", views.login_switch, name="login-switch"),
    path("login/link/", views.login_link, name="login-link"),
    path("login/link/<str:token>/", views.login_link_token, name="login-link-token"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", password_views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        password_views.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        password_views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        password_views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    path("settings/team/", team_views.team, name="team"),
    path("settings/team/add/", team_views.member_add_view, name="member-add"),
    path(
        "settings/team/<int:member_id>/remove/", team_views.member_remove_view, name="member-remove"
    ),
    path(
        "settings/team/<int:member_id>/end-trust/",
        trust_views.member_trust_end_view,
        name="member-trust-end",
    ),
    path(
        "settings/trusted-browsers/<int:browser_id>/stop/",
        trust_views.trusted_browser_stop_view,
        name="trusted-browser-stop",
    ),
    path("settings/trusted-browsers/", trust_views.trust_settings, name="trust-settings"),
    path(
        "settings/team/<int:member_id>/sign-out/",
        session_views.member_sessions_end_view,
        name="member-sessions-end",
    ),
    path(
        "settings/personal/sessions/sign-out-others/",
        session_views.sessions_end_others,
        name="sessions-end-others",
    ),
    path(
        "settings/personal/sessions/<str:session_id>/sign-out/",
        session_views.session_end,
        name="session-end",
    ),
    path("invite/<uidb64>/<token>/", team_views.InviteAcceptView.as_view(), name="invite-accept"),
    path("invite/done/", team_views.InviteDoneView.as_view(), name="invite-done"),
    # Each second step's own pages, as its factor registered them (accounts.stages).
    *stages.step_urlpatterns(),
]
