from __future__ import annotations

from django.urls import path, re_path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("openapi.json", views.openapi, name="openapi"),
    path("products", views.products, name="products"),
    path("products/<slug:slug>", views.product, name="product"),
    path("applications", views.applications, name="applications"),
    path("applications/<uuid:app_id>", views.application, name="application"),
    path("applications/<uuid:app_id>/secret", views.rotate_secret, name="rotate_secret"),
    path("subscriptions", views.subscriptions, name="subscriptions"),
    path("subscriptions/<uuid:sub_id>", views.subscription, name="subscription"),
    path("subscriptions/<uuid:sub_id>/usage", views.subscription_usage, name="subscription_usage"),
    path("applications/<uuid:app_id>/usage", views.application_usage, name="application_usage"),
    re_path(r"^(?P<rest>.*)$", views.unknown),  # last: what nothing above matched
]
