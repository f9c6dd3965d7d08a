from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from identity.urls import oauth2_urlpatterns
from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("apis/", include("apis.urls")),
    path("console/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("idp/", include("identity.urls")),
    path("idp/", include((oauth2_urlpatterns, "oauth2_provider"))),
]
