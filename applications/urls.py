from __future__ import annotations

from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("", views.application_list, name="list"),
    path("new/", views.create, name="create"),
    path("<uuid:app_id>/", views.detail, name="detail"),
    path("<uuid:app_id>/edit/", views.edit, name="edit"),
    path("<uuid:app_id>/rotate/", views.rotate, name="rotate"),
    path(
        "<uuid:app_id>/console-secret/forget/",
        views.forget_console_secret,
        name="forget_console_secret",
    ),
    path("<uuid:app_id>/delete/", views.delete, name="delete"),
]
