"""portal.lib.headers: the never-forwarded override headers, shared by gateway and console."""

from __future__ import annotations

import pytest

from console.calls import _forbidden
from portal.lib import outbound
from portal.lib.headers import OVERRIDE_HEADERS
from portal.lib.outbound import OutboundError
from tests.portal.loopback import loopback_server

CASE_62 = [
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
    "X-Original-URL",
    "X-Rewrite-URL",
    "X-Host",
    "X-Original-Host",
]


def test_the_list_holds_case_62s() -> None:
    assert {h.lower() for h in CASE_62} <= OVERRIDE_HEADERS


@pytest.mark.parametrize("name", CASE_62)
def test_console_and_outbound_wrapper_never_send_them(name: str) -> None:
    assert _forbidden(name) and _forbidden(name.lower())
    with loopback_server({}) as server:
        with pytest.raises(OutboundError) as info:
            # Refused even when a caller lists the header as allowed.
            outbound.request(
                "GET",
                server.url(),
                headers={name: "DELETE"},
                allow_headers=[name],
                allowed_private=["127.0.0.1"],
            )
        assert info.value.kind == "bad-header"


@pytest.mark.parametrize("name", ["X_HTTP_Method_Override", "x_original_url", "X_User_Sub"])
def test_console_refuses_underscore_spellings(name: str) -> None:
    # A WSGI backend reads X_User_Sub as HTTP_X_USER_SUB, the same as X-User-Sub.
    assert _forbidden(name)
