"""The portal's URLs plus one view that fails, for the 500 page test."""

from __future__ import annotations

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from portal.urls import handler404, handler500
from portal.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def database_down(request: HttpRequest) -> HttpResponse:
    raise OperationalError("connection failed: Connection refused")


urlpatterns = [
    *portal_urlpatterns,
    path("boom/", boom),
    path("database-down/", database_down),
]
