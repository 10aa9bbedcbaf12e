from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Second factor"

    def ready(self) -> None:
        from django.urls import path
        from django.utils.translation import gettext_lazy as _

        from accounts import stages
        from security.totp import services as totp
        from security.totp import views as totp_views

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
            )
        )
