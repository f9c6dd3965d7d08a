"""Every answer under /api/v1/ is a problem+json document, even where the portal answers
before the API's views (a NUL in the request, a host it does not serve) or after them (a
failure): a terminal reads JSON, not a text or HTML page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/problem+json", response.content[:200]
    body = response.json()
    assert body["status"] == status and body["detail"]
    return dict(body)


@pytest.mark.parametrize(
    "path", ["/api/v1/applications?limit=%00", "/api/v1/applications/%00", "/api/v1/%00"]
)
def test_a_nul_character_is_a_problem_answer(
    client: Client, ada: Any, portal_token: Callable[..., str], path: str
) -> None:
    token = portal_token(ada)
    _problem(client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}"), 400)


def test_a_nul_in_a_form_body_is_a_problem_answer(
    client: Client, ada: Any, portal_token: Callable[..., str]
) -> None:
    token = portal_token(ada)
    answer = client.post(
        "/api/v1/applications",
        "name=a%00b&kind=machine",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    _problem(answer, 400)


def test_a_host_the_portal_does_not_serve_is_a_problem_answer(client: Client) -> None:
    _problem(client.get("/api/v1/products", HTTP_HOST="evil.example"), 400)


def test_the_database_out_of_reach_is_a_problem_answer_with_retry_after(
    ada: Any, portal_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = portal_token(ada)

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr("onboarding.auth.caller", down)
    client = Client(raise_request_exception=False)
    answer = client.get("/api/v1/products", HTTP_AUTHORIZATION=f"Bearer {token}")
    _problem(answer, 503)
    assert answer["Retry-After"]


def test_a_failure_is_a_problem_answer(
    ada: Any, portal_token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = portal_token(ada)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("onboarding.auth.caller", broken)
    client = Client(raise_request_exception=False)
    body = _problem(client.get("/api/v1/products", HTTP_AUTHORIZATION=f"Bearer {token}"), 500)
    assert "a bug" not in str(body)


@pytest.mark.parametrize("size", [64 * 1024 + 1, 3 * 1024 * 1024])
@pytest.mark.parametrize(
    "content_type", ["application/json", "text/plain", "application/x-www-form-urlencoded"]
)
def test_a_body_past_the_limit_is_413_content_too_large(
    client: Client, ada: Any, portal_token: Callable[..., str], size: int, content_type: str
) -> None:
    token = portal_token(ada)
    body = '{"name": "' + "a" * size + '", "kind": "machine"}'
    answer = client.post(
        "/api/v1/applications",
        body,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    _problem(answer, 413)
    assert not ada.applications.exclude(name="CLI").exists()
