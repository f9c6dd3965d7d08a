from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apis.models import Api


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    apis = Api.objects.filter(is_published=True).prefetch_related("tags")[:6]
    return render(request, "home.html", {"apis": apis})


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
