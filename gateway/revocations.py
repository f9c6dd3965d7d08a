"""Access tokens revoked at the built-in provider, refused by validate-jwt.

The provider keeps an `identity.RevokedToken` row (sha256 of the token) for every access
token revoked before its expiry: RFC 7009 revocation, refresh-token reuse detection, a
deleted application. Each gateway process holds the checksums of the rows still unexpired in
memory and learns of new ones on the refresh cadence (GATEWAY_CONFIG_REFRESH): from the
version the provider bumps on the shared cache when Redis is configured, else from the
table's newest row id, one indexed query. With Redis, the table is also asked every
GATEWAY_REVOCATIONS_BACKSTOP seconds, for a version lost to a Redis restart or outage.

A token is looked up by its checksum, so only the exact token revoked is refused, whatever
its issuer: no other issuer's token has that hash.

Until the set has loaded once (a gateway started while the database cannot answer), the
gateway cannot tell a revoked token from a good one, so it fails closed: 503 with
Retry-After, check `revocations`, as for signing keys never fetched, and it retries on the
refresh cadence. Once loaded, a later database outage keeps the last set (a revocation made
during the outage is refused when the table answers again).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings

from gateway.jwt import KeysUnavailable
from gateway.refreshed import Refreshed


class RevocationsUnavailable(KeysUnavailable):
    """The revoked set never loaded: answer 503 rather than pass a token that may be revoked."""

    check = "revocations"


def _newest_row() -> Any:
    from django.db.models import Max

    from identity.models import RevokedToken

    return RevokedToken.objects.aggregate(last=Max("pk"))["last"]


class _Fingerprint:
    def __init__(self) -> None:
        self._asked_at: float | None = None
        self._row: Any = None

    def __call__(self) -> tuple[Any, ...]:
        if not getattr(settings, "REDIS_URL", ""):
            return ("db", _newest_row())
        from identity import revocation

        now = time.monotonic()
        backstop = float(getattr(settings, "GATEWAY_REVOCATIONS_BACKSTOP", 30))
        if self._asked_at is None or now - self._asked_at >= backstop:
            self._asked_at = now
            self._row = _newest_row()
        return ("redis", revocation.version(), self._row)


def load_revoked() -> frozenset[str]:
    from django.utils import timezone

    from identity.models import RevokedToken

    rows = RevokedToken.objects.filter(expires__gt=timezone.now())
    return frozenset(rows.values_list("token_checksum", flat=True))


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Revocations(Refreshed[frozenset[str]]):
    def __init__(self) -> None:
        super().__init__("revoked tokens", load_revoked, _Fingerprint(), frozenset())

    def is_revoked(self, token: str) -> bool:
        if not self.loaded:
            raise RevocationsUnavailable(
                "The gateway has not been able to load the revoked tokens yet; retry shortly."
            )
        return bool(self.value) and checksum(token) in self.value
