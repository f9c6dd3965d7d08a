from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("apis/", include("apis.urls")),
    path("admin/", admin.site.urls),
]
