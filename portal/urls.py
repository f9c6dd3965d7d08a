from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from identity.backends import AdminLoginForm
from identity.urls import oauth2_urlpatterns
from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    # Answered by portal.middleware.HealthMiddleware before the host check and the SSL
    # redirect; listed here so they can be reversed.
    path("health/", views.health_ready, name="health"),
    path("health/live", views.health_live, name="health_live"),
    path("health/ready", views.health_ready, name="health_ready"),
    path("apis/", include("apis.urls")),
    path("console/", include("console.urls")),
    path("products/", include("products.urls")),
    path("applications/", include("applications.urls")),
    path("usage/", include("usage.urls")),
    path("api/v1/", include("onboarding.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("idp/", include("identity.urls")),
    path("idp/", include((oauth2_urlpatterns, "oauth2_provider"))),
]

# The portal's layout on error pages, with a plain fallback when the layout itself fails.
# The admin under the portal's name, not "Django administration" / "Django site admin".
admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.login_form = AdminLoginForm  # says when the failed sign-in limits stop a login

handler400 = "portal.views.bad_request"
handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
