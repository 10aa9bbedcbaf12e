from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Second factor"

    def ready(self) -> None:
        from django.db.models import Exists, OuterRef
        from django.urls import path
        from django.utils.translation import gettext_lazy as _

        from accounts import stages
        from security.passkeys import services as passkeys
        from security.passkeys import views as passkey_views
        from security.policy import active_apps
        from security.recovery_codes import services as recovery
        from security.recovery_codes import views as recovery_views
        from security.totp import services as totp
        from security.totp import views as totp_views

        # A passkey or security key: asked first when the member has one (phishing-resistant);
        # the team's requirement accepts it when the Account Admin chose "app or passkey".
        stages.register(
            stages.SecondStep(
                key=passkeys.PASSKEY_STEP,
                label=_("Use a passkey or security key instead"),
                url_name="accounts:login-passkey",
                is_active_for=passkeys.has_passkey,
                meets_requirement=lambda account: account.accept_passkeys,
                urlpatterns=(
                    path("login/passkey/", passkey_views.login_passkey, name="login-passkey"),
                ),
                load=passkeys.passkey_step_load,
                order=5,
                name=_("Passkey"),
                factor="passkey",
                active_expression=passkeys.passkeys_exist,
                way=_("a passkey or security key"),
            )
        )
        # The authenticator app's sign-in step: a code from the app, or a recovery code.
        stages.register(
            stages.SecondStep(
                key=totp_views.CODE_STEP,
                label=_("Use your authenticator app instead"),
                url_name="accounts:login-code",
                is_active_for=totp.has_active_app,
                meets_requirement=True,
                urlpatterns=(path("login/code/", totp_views.login_code, name="login-code"),),
                load=totp.code_step_load,
                order=10,
                name=_("Authenticator app"),
                factor="totp",
                active_expression=lambda: Exists(active_apps().filter(user=OuterRef("pk"))),
                way=_("a code from your authenticator app"),
            )
        )
        # Recovery codes: a backup of the member's factors, on a page of its own (a text
        # field: the app's field opens a digit keypad). Counted by the same lockout.
        stages.register(
            stages.SecondStep(
                key=recovery.RECOVERY_CODE_STEP,
                label=_("Use a recovery code instead"),
                url_name="accounts:login-recovery-code",
                is_active_for=recovery.has_recovery_codes,
                meets_requirement=False,
                urlpatterns=(
                    path(
                        "login/code/recovery/",
                        recovery_views.login_recovery_code,
                        name="login-recovery-code",
                    ),
                ),
                load=recovery.recovery_step_load,
                order=50,
                active_expression=recovery.recovery_codes_exist,
                way=_("a recovery code"),
                backup=True,
            )
        )
