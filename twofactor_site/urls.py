from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from twofactor_site import admin_guard, views

# The admin has no login of its own: staff sign in through ours, second step included.
admin.site.login = views.admin_login
admin.site.autocomplete_view = admin_guard.autocomplete_view
admin.site.password_change = admin_guard.password_change
admin.site.site_header = "Twofactor support"
# The member list needs the width: its columns fit a 1280 px screen without the app sidebar
# (the home page and the breadcrumbs still lead everywhere).
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", account_views.home, name="home"),
    path("", include("accounts.urls")),
    path("", include("accounts.sso.urls")),
    path("settings/", include("security.urls")),
    path("admin/", admin.site.urls),
    # The production error pages, on the debug server only (README: "Seeing the error pages").
    path("_errors/<int:status>/", views.error_preview, name="error-preview"),
    path("favicon.ico", RedirectView.as_view(url="/static/favicon.svg", permanent=True)),
]

handler400 = "twofactor_site.views.bad_request"
handler403 = "twofactor_site.views.permission_denied"
handler404 = "twofactor_site.views.page_not_found"
handler500 = "twofactor_site.views.server_error"
