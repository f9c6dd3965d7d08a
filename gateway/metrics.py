"""Counters and a latency histogram in Prometheus text format, per gateway process."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    def __init__(self) -> None:
        self.requests: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.rejections: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.upstream_errors: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(BUCKETS))
        self.sums: defaultdict[str, float] = defaultdict(float)
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.key_fetches = 0
        self.store_failures: dict[str, int] = {}

    def observe(self, api: str, method: str, status: int, seconds: float) -> None:
        self.requests[(api, method, status)] += 1
        i = bisect_left(BUCKETS, seconds)
        if i < len(BUCKETS):
            self.buckets[api][i] += 1
        else:
            self.buckets[api]  # noqa: B018  (creates the row: +Inf only)
        self.sums[api] += seconds
        self.counts[api] += 1

    def render(self) -> bytes:
        out = [
            "# HELP gateway_requests_total Calls answered by the gateway.",
            "# TYPE gateway_requests_total counter",
        ]
        for (api, method, status), n in sorted(self.requests.items()):
            out.append(
                f'gateway_requests_total{{api="{_label(api)}",method="{_label(method)}",'
                f'status="{status}"}} {n}'
            )
        out += [
            "# HELP gateway_token_rejections_total Tokens refused, by failed check.",
            "# TYPE gateway_token_rejections_total counter",
        ]
        for (api, check), n in sorted(self.rejections.items()):
            out.append(
                f'gateway_token_rejections_total{{api="{_label(api)}",check="{_label(check)}"}} {n}'
            )
        out += [
            "# HELP gateway_upstream_errors_total Backend failures (timeout, unavailable, broken).",
            "# TYPE gateway_upstream_errors_total counter",
        ]
        for (api, kind), n in sorted(self.upstream_errors.items()):
            out.append(
                f'gateway_upstream_errors_total{{api="{_label(api)}",kind="{_label(kind)}"}} {n}'
            )
        out += [
            "# HELP gateway_jwks_fetches_total Discovery and JWKS fetch attempts.",
            "# TYPE gateway_jwks_fetches_total counter",
            f"gateway_jwks_fetches_total {self.key_fetches}",
            "# HELP gateway_store_failures_total Shared-store (Redis) operations that failed.",
            "# TYPE gateway_store_failures_total counter",
            *(
                f'gateway_store_failures_total{{store="{name}"}} {n}'
                for name, n in sorted(self.store_failures.items())
            ),
            "# HELP gateway_request_duration_seconds Time from request to response end.",
            "# TYPE gateway_request_duration_seconds histogram",
        ]
        for api in sorted(self.buckets):
            cumulative = 0
            name = _label(api)
            for bound, n in zip(BUCKETS, self.buckets[api], strict=True):
                cumulative += n
                out.append(
                    f'gateway_request_duration_seconds_bucket{{api="{name}",le="{bound}"}} '
                    f"{cumulative}"
                )
            out.append(
                f'gateway_request_duration_seconds_bucket{{api="{name}",le="+Inf"}} '
                f"{self.counts[api]}"
            )
            out.append(f'gateway_request_duration_seconds_sum{{api="{name}"}} {self.sums[api]:.6f}')
            out.append(f'gateway_request_duration_seconds_count{{api="{name}"}} {self.counts[api]}')
        return ("\n".join(out) + "\n").encode()
