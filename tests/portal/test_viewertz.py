"""portal/lib/viewertz.py: the viewer's zone from the `tz` cookie, UTC for anything else."""

from __future__ import annotations

import pytest

from portal.lib.viewertz import zone_from_cookie


def test_a_known_zone_is_used() -> None:
    assert str(zone_from_cookie("Europe/Paris")) == "Europe/Paris"
    assert (
        str(zone_from_cookie("America/Argentina/Buenos_Aires")) == "America/Argentina/Buenos_Aires"
    )


@pytest.mark.parametrize(
    "value",
    [None, "", "Mars/Olympus_Mons", "../../../etc/passwd", "/etc/localtime", "Europe/Paris\x00",
     "europe/paris", "A" * 200],
)  # fmt: skip
def test_anything_else_is_utc(value: str | None) -> None:
    assert str(zone_from_cookie(value)) == "UTC"
