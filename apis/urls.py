from __future__ import annotations

from django.urls import path

from apis import views

app_name = "apis"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/operations/<path:operation>/", views.operation, name="operation"),
]
