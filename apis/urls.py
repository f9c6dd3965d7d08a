from __future__ import annotations

from django.urls import path

from apis import views

app_name = "apis"

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/nav/", views.nav, name="nav"),
    path("<slug:slug>/operations/<str:operation>/", views.operation, name="operation"),
    path(
        "<slug:slug>/operations/<str:operation>/schema/",
        views.operation_part,
        name="operation_part",
    ),
    path("<slug:slug>/schemas/", views.schemas, name="schemas"),
    path("<slug:slug>/schemas/<str:name>/", views.schema, name="schema"),
    path("<slug:slug>/download/<str:kind>/", views.download, name="download"),
]
