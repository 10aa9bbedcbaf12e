from django.conf import settings


def site(request):
    return {"site_name": settings.SITE_NAME, "support_email": settings.SUPPORT_EMAIL}
