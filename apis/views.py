from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET


@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    return HttpResponse("catalog")


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(slug)


@require_GET
def operation(request: HttpRequest, slug: str, operation: str) -> HttpResponse:
    return HttpResponse(operation)
