from django.conf import settings


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        "support_email": settings.SUPPORT_EMAIL,
        # A member the team's requirement holds in set-up: the nav shows nothing that would
        # only send them back (security.middleware sets it).
        "must_enroll": getattr(request, "must_enroll", False),
        # Not yet: the date from which they will be (the layout's banner says it).
        "setup_due": getattr(request, "setup_due", None),
    }
