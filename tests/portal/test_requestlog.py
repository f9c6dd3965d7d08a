"""One log line per request, the X-Request-ID it is filed under, and JSON logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from portal.lib import requestlog

pytestmark = pytest.mark.django_db


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "portal.request"]


def test_one_line_per_request_without_the_query_string(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.get("/apis/?q=secret-token-in-a-query")
    [line] = lines(caplog)
    message = line.getMessage()
    assert message.startswith("GET /apis/ 200 ") and "secret-token" not in message
    assert f"rid={response['X-Request-ID']}" in message and "user=-" in message
    assert line.status == 200 and line.path == "/apis/"  # type: ignore[attr-defined]


def test_the_signed_in_user_is_named_by_id(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    user = get_user_model().objects.create_user("grace")
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/apis/")
    assert f"user={user.pk} " in lines(caplog)[0].getMessage()


def test_request_ids_differ_and_a_client_cannot_choose_one(client: Client) -> None:
    first = client.get("/apis/", HTTP_X_REQUEST_ID="chosen-by-client")["X-Request-ID"]
    second = client.get("/apis/")["X-Request-ID"]
    assert first != "chosen-by-client" and first != second


def test_a_trusted_proxys_request_id_is_kept(client: Client, settings: Any) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    kept = client.get("/apis/", REMOTE_ADDR="10.0.0.2", HTTP_X_REQUEST_ID="lb-1234")
    assert kept["X-Request-ID"] == "lb-1234"
    forged = client.get("/apis/", REMOTE_ADDR="203.0.113.5", HTTP_X_REQUEST_ID="lb-1234")
    assert forged["X-Request-ID"] != "lb-1234"
    broken = client.get("/apis/", REMOTE_ADDR="10.0.0.2", HTTP_X_REQUEST_ID="a b\tc")
    assert broken["X-Request-ID"] != "a b\tc"


def test_json_log_lines() -> None:
    record = logging.makeLogRecord(
        {
            "name": "portal.request",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "GET /apis/ 200",
            "status": 200,
            "request_id": "abc",
            "user_id": 7,
        }
    )
    entry = json.loads(requestlog.JsonFormatter().format(record))
    assert entry["message"] == "GET /apis/ 200" and entry["level"] == "INFO"
    assert entry["status"] == 200 and entry["request_id"] == "abc" and entry["user_id"] == 7
