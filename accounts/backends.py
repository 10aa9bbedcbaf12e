from django.contrib.auth.backends import ModelBackend

from accounts import stages
from accounts.models import User, normalize_email


class EmailBackend(ModelBackend):
    """Password sign-in by email, case-insensitively. SSO members never sign in with a
    password here: their identity provider does that."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = normalize_email(email or username or "")
        if not email or password is None:
            return None
        try:
            # With the ways in the member has (annotations of this one query): where the
            # login goes next (accounts.stages.step_for) costs no query of its own.
            user = stages.members_with_steps(team=True).get(email=email)
        except User.DoesNotExist:
            # Run the hasher anyway so an unknown address takes as long as a known one.
            User().set_password(password)
            return None
        if user.is_sso:
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The signed-in member of a request, with their account in the same query: every
        page's enrollment gate reads the team's requirement from it (security.middleware),
        and most pages show the team."""
        try:
            user = User._default_manager.select_related("account").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
