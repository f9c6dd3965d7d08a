from __future__ import annotations

from django.urls import path

from usage import views

app_name = "usage"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("applications/<uuid:app_id>/", views.application, name="application"),
    path("applications/<uuid:app_id>/export.csv", views.application_csv, name="application_csv"),
    path("subscriptions/<uuid:sub_id>/", views.subscription, name="subscription"),
    path("subscriptions/<uuid:sub_id>/export.csv", views.subscription_csv, name="subscription_csv"),
    path("reports/", views.report, name="reports"),
    path("reports/export.csv", views.report_csv, name="reports_csv"),
]
