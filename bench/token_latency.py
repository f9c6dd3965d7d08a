"""Latency of a client-credentials token from a running portal's built-in provider.

    make run &   # then:
    .venv/bin/python -m bench.token_latency http://127.0.0.1:8000/idp/token/

Uses the demo service client that `make run` creates.
"""

from __future__ import annotations

import base64
import statistics
import sys
import time
import urllib.request

CLIENT = b"demo-service:demo-service-demo-secret"


def main(url: str, n: int = 50) -> None:
    auth = "Basic " + base64.b64encode(CLIENT).decode()
    body = b"grant_type=client_credentials&scope=echo.read"
    times = []
    for _ in range(n):
        request = urllib.request.Request(url, data=body, headers={"Authorization": auth})
        started = time.perf_counter()
        with urllib.request.urlopen(request) as response:  # noqa: S310 - a loopback URL given by hand
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(
        f"client_credentials token over HTTP: median {statistics.median(times):.1f} ms, "
        f"p90 {times[int(n * 0.9) - 1]:.1f} ms (n={n})"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/idp/token/")
