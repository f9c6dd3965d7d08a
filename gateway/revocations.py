"""Access tokens revoked at the built-in provider, refused by validate-jwt.

The provider keeps an `identity.RevokedToken` row (sha256 of the token) for every access
token revoked before its expiry: RFC 7009 revocation, refresh-token reuse detection, a
deleted application. Each gateway process holds the checksums of the rows still unexpired in
memory and learns of new ones as it learns of any other change (gateway/refreshed.py): a new
row bumps the gateway's version key with Redis (gateway/signals.py), and the fingerprint is the
table's newest row id, one indexed query.

A token is looked up by its checksum, so only the exact token revoked is refused, whatever
its issuer: no other issuer's token has that hash. An ECDSA-signed token has a second spelling
that verifies (s replaced by n - s): its checksum is looked up too.

Until the set has loaded once (a gateway started while the database cannot answer), the
gateway cannot tell a revoked token from a good one, so it fails closed: 503 with
Retry-After, check `revocations`, as for signing keys never fetched, and it retries on the
refresh cadence. Once loaded, a later database outage keeps the last set (a revocation made
during the outage is refused when the table answers again).
"""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.jwt import KeysUnavailable, ParsedToken, ecdsa_twin
from gateway.refreshed import Refreshed
from gateway.version import VersionSource


class RevocationsUnavailable(KeysUnavailable):
    """The revoked set never loaded: answer 503 rather than pass a token that may be revoked."""

    check = "revocations"


def newest_row() -> Any:
    """The fingerprint: rows are only added (pruning removes expired ones, which no longer
    matter), so the newest id changes with every revocation."""
    from django.db.models import Max

    from identity.models import RevokedToken

    return RevokedToken.objects.aggregate(last=Max("pk"))["last"]


def load_revoked() -> frozenset[str]:
    from django.utils import timezone

    from identity.models import RevokedToken

    rows = RevokedToken.objects.filter(expires__gt=timezone.now())
    return frozenset(rows.values_list("token_checksum", flat=True))


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class Revocations(Refreshed[frozenset[str]]):
    def __init__(self, version: VersionSource | None = None) -> None:
        super().__init__("revoked tokens", load_revoked, newest_row, frozenset(), version)

    def is_revoked(self, token: str, parsed: ParsedToken | None = None) -> bool:
        """Whether the token, or the twin spelling of its ECDSA signature (`parsed`'s, which
        verifies as well: gateway.jwt.ecdsa_twin), was revoked."""
        if not self.loaded:
            raise RevocationsUnavailable(
                "The gateway has not been able to load the revoked tokens yet; retry shortly."
            )
        revoked = self.value
        if not revoked:
            return False
        if checksum(token) in revoked:
            return True
        twin = ecdsa_twin(parsed) if parsed is not None else None
        return twin is not None and checksum(twin) in revoked
