"""Time the console against the default run: `.venv/bin/python tests/console/measure_send.py`.

Starts `seed_demo` + `serve` on a free loopback port (as the integration tests do), signs in,
gets a client-credentials token, then sends 30 calls through the console (htmx fragment) to
the echo backend behind the gateway. Prints the token request time, the console view's
median and p90, and the gateway round trip the console reports. Not collected by pytest.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import requests  # noqa: E402

from tests.console.live import (  # noqa: E402
    DEMO_PASSWORD,
    DEMO_USER,
    hidden_fields,
    running_portal,
    sign_in,
)
from tests.console.test_live import OP, PAGE, chosen_token, get_token  # noqa: E402

CALLS = 30


def main() -> None:
    with running_portal(Path(tempfile.mkdtemp())) as portal:
        session = requests.Session()
        sign_in(session, portal, PAGE)
        started = time.monotonic()
        # A token from the server (the shared console client offers no client credentials).
        get_token(
            session, portal, "password", "echo.read", username=DEMO_USER, password=DEMO_PASSWORD
        )
        token_ms = (time.monotonic() - started) * 1000
        page = session.get(portal.url(PAGE)).text
        token = chosen_token(page)
        csrf = hidden_fields(page, 'id="console-form"')["csrfmiddlewaretoken"]
        views, round_trips = [], []
        for i in range(CALLS):
            data = {**OP, "csrfmiddlewaretoken": csrf, "token": token,
                    "server": f"{portal.base}/gateway/echo", "param.query.message": f"m{i}"}  # fmt: skip
            started = time.monotonic()
            answer = session.post(
                portal.url("/console/send/"), data=data, headers={"HX-Request": "true"}
            )
            views.append((time.monotonic() - started) * 1000)
            assert answer.status_code == 200 and "data-status-code>200<" in answer.text
            found = re.search(r'console-time">(\d+) ms', answer.text)
            assert found
            round_trips.append(int(found.group(1)))
        views.sort()
        print(f"token (password grant, POST /console/token/): {token_ms:.0f} ms")
        print(
            f"{CALLS} sends: console view median {statistics.median(views):.0f} ms, "
            f"p90 {views[int(CALLS * 0.9) - 1]:.0f} ms; gateway round trip median "
            f"{statistics.median(round_trips):.0f} ms (first call {round_trips[0]} ms, JWKS fetch)"
        )


if __name__ == "__main__":
    main()
