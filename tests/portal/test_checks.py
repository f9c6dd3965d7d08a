"""System checks of the private-hosts allowances (portal.W010/E010, gateway.W010/E010)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.checks import check_key_fetch_private_hosts
from portal.checks import check_outbound_private_hosts


def _ids() -> set[str]:
    found = [*check_outbound_private_hosts(None), *check_key_fetch_private_hosts(None)]
    return {m.id for m in found if m.id}


@pytest.mark.parametrize(
    ("setting", "prefix"),
    [("OUTBOUND_ALLOWED_PRIVATE_HOSTS", "portal"), ("GATEWAY_KEY_FETCH_PRIVATE_HOSTS", "gateway")],
)
def test_bare_and_unreadable_entries_are_reported(setting: str, prefix: str, settings: Any) -> None:
    setattr(settings, setting, ["127.0.0.1:8000", "http://idp.local"])
    assert _ids() == set()
    setattr(settings, setting, ["127.0.0.1"])
    assert _ids() == {f"{prefix}.W010"}
    setattr(settings, setting, ["127.0.0.1:99999"])
    assert _ids() == {f"{prefix}.E010"}
