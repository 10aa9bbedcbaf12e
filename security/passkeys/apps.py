from django.apps import AppConfig


class PasskeysConfig(AppConfig):
    """Passkeys and security keys (WebAuthn). Its sign-in step is registered with the other
    factors' in security.apps.SecurityConfig.ready."""

    name = "security.passkeys"
    label = "passkeys"
    verbose_name = "Passkeys"
    default_auto_field = "django.db.models.BigAutoField"
