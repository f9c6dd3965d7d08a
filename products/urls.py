from __future__ import annotations

from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("subscriptions/", views.my_subscriptions, name="subscriptions"),
    path("subscriptions/<uuid:sub_id>/", views.subscription, name="subscription"),
    path("subscriptions/<uuid:sub_id>/show/", views.show_key, name="show_key"),
    path("subscriptions/<uuid:sub_id>/regenerate/", views.regenerate, name="regenerate"),
    path("subscriptions/<uuid:sub_id>/cancel/", views.cancel, name="cancel"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<uuid:sub_id>/", views.decide, name="decide"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/subscribe/", views.subscribe, name="subscribe"),
]
