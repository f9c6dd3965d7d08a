"""The validate-jwt step: find the token, verify it once, check its claims per call.

Two caches make a repeat call cheap: parsed and verified tokens (until they expire, or until
the key set they were verified with is replaced) and verdicts per token, method and operation
(within the time window `check_claims` reports). Both are cleared when the routes reload.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from accounts.issuers import is_template, token_issuer_fits
from gateway.config import RouteConfig
from gateway.jwt import (
    KeysUnavailable,
    ParsedToken,
    Policy,
    PublicKey,
    TokenRejected,
    Verdict,
    check_claims,
    check_issuer_and_type,
    extract_token,
    parse,
    verify_signature,
)
from gateway.keys import KeySet, KeyStore
from gateway.knobs import setting
from gateway.querystring import cut_param

if TYPE_CHECKING:
    from gateway.clients import SubscribedClients
    from gateway.revocations import Revocations

log = logging.getLogger("gateway")

_TOKEN_CACHE_MAX = 50_000


def _setting(name: str, default: Any) -> Any:
    return setting(name, default)


def _with_tenant(
    by_issuer: dict[str, tuple[str, KeySet]], iss: str, payload: dict[str, Any], policy: Policy
) -> dict[str, tuple[str, KeySet]]:
    """`by_issuer` with the token's `iss` added when a discovery document's issuer is a tenant
    template (Entra's multi-tenant `.../{tenantid}/v2.0`) that the token's own `tid` fills to
    make `iss` (Microsoft's rule, accounts/issuers.py), and the policy lists that issuer: one
    discovery document serves every tenant, and `issuers` says which this API trusts. Reached
    only when `iss` is no discovered issuer, never on a call whose issuer is known."""
    if iss not in policy.issuers:
        return by_issuer
    for discovered, entry in by_issuer.items():
        if is_template(discovered) and token_issuer_fits(discovered, "", payload):
            return {**by_issuer, iss: entry}
    return by_issuer


class Validator:
    """validate-jwt for one process and event loop: the key store and the token caches."""

    def __init__(
        self,
        keys: KeyStore,
        *,
        revocations: Revocations | None = None,
        clients: SubscribedClients | None = None,
    ) -> None:
        self.keys = keys
        # Tokens revoked at the built-in provider, and which clients hold which APIs through
        # subscriptions (for require-subscribed-client): both from the database.
        self.revocations = revocations
        self.clients = clients
        # token -> (policy, parsed, key, discovery URL, the key set it was verified with)
        self._tokens: dict[str, tuple[Policy, ParsedToken, PublicKey, str, KeySet | None]] = {}
        self._verdicts: dict[tuple[str, str, str | None], tuple[Policy, Verdict, str]] = {}

    def clear(self) -> None:
        self._tokens.clear()
        self._verdicts.clear()

    async def authorize(
        self,
        route: RouteConfig,
        policy: Policy,
        method: str,
        operation: str | None,
        headers: dict[bytes, bytes],
        query: bytes,
    ) -> tuple[Verdict, bytes]:
        """The verdict for a call, and the query string to forward (token parameter removed).

        Raises TokenRejected (401/403) or KeysUnavailable (503)."""
        header_value: str | None = None
        if policy.header_name:
            raw = headers.get(policy.header_key)
            if raw is not None:
                if len(raw) > policy.max_token_bytes + 64:
                    raise TokenRejected("size", "The token is larger than the size limit.")
                header_value = raw.decode("latin-1")
        param = policy.query_parameter_name or "access_token"
        query_value: str | None = None
        # `%` too: `access%5Ftoken` is `access_token` to the backend, so it is read here too.
        if query and (query.find(param.encode("latin-1")) >= 0 or query.find(b"%") >= 0):
            values, without = cut_param(query, param)
            if values:
                query_value = values[0]
                if policy.query_parameter_name:
                    # The backend never sees the token in its query string.
                    query = without
        token = extract_token(policy, header_value, query_value)
        revocations = self.revocations
        if revocations is not None and revocations.due() and await revocations.refresh():
            # A token revoked since is in the caches: every token verifies again once.
            self.clear()
        if policy.require_subscribed_client and self.clients is not None and self.clients.due():
            await self.clients.refresh()
        now = time.time()
        # A verdict depends only on the token, policy, method and operation, within the time
        # window check_claims reports: a repeat call costs one dict lookup.
        key = (token, method, operation)
        cached = self._tokens.get(token)
        fresh = (
            cached is not None
            and cached[0] is policy
            and self._keys_current(cached[3], cached[4], now)
        )
        hit = self._verdicts.get(key) if fresh else None
        if hit is not None and hit[0] is policy and hit[1].valid_from <= now < hit[1].valid_until:
            if policy.require_subscribed_client:
                self._check_subscribed(route, cached[1] if cached else None)
            return hit[1], query
        if fresh:
            assert cached is not None
            parsed = cached[1]
        else:
            parsed = await self._verify(token, policy, route.timeout)
        verdict = check_claims(parsed, policy, now, method=method, operation=operation)
        if policy.require_subscribed_client:
            self._check_subscribed(route, parsed)
        if verdict.extra_audiences:
            log.info(
                "token for %s also names audiences %s",
                route.api_slug,
                ", ".join(verdict.extra_audiences)[:200],
            )
        if token in self._tokens:
            if len(self._verdicts) >= _TOKEN_CACHE_MAX:
                self._verdicts.clear()
            self._verdicts[key] = (policy, verdict, token)
        return verdict, query

    def _check_subscribed(self, route: RouteConfig, parsed: ParsedToken | None) -> None:
        """require-subscribed-client: the token's client holds this API through an active
        subscription, and the token carries none of the API's scopes its products leave out."""
        from gateway.clients import SCOPE_CLAIMS, refusal

        if parsed is None:  # cannot happen: a cached verdict has its parsed token
            raise TokenRejected("client", "The token's client is unknown.", status=403)
        clients = self.clients.value if self.clients is not None else None
        policy = route.policy
        rules = policy.required_claims if policy is not None else ()
        # A rule may read the API's scopes from any claim (Entra's roles, Auth0's permissions):
        # each such claim is read for scopes the client's products leave out.
        claims = (*SCOPE_CLAIMS, *(rule.name for rule in rules)) if rules else SCOPE_CLAIMS
        refused = refusal(clients, route.api_slug, parsed.payload, claims)
        if refused is not None:
            raise refused

    def _keys_current(self, url: str, keyset: KeySet | None, now: float) -> bool:
        """A cached verification stands while its key set is the current, unexpired one: a
        refreshed JWKS (a key withdrawn) makes every cached token verify again once."""
        if not url:
            return True  # static issuer-signing-keys change only with the configuration
        current = self.keys.current(url)
        return (
            current is not None
            and current is keyset
            and now - current.fetched_at < float(_setting("GATEWAY_JWKS_TTL", 3600))
        )

    async def _verify(self, token: str, policy: Policy, wait: float | None = None) -> ParsedToken:
        """The parsed token, its signature verified; waits for keys at most `wait` seconds
        (the route's timeout), then KeysUnavailable."""
        parsed = parse(token, policy)
        if self.revocations is not None and self.revocations.is_revoked(token, parsed):
            # Checked before the signature and never cached: a revoked token stays refused.
            raise TokenRejected("revoked", "The token was revoked at its provider.")
        by_issuer, missing = await self.keys.keys_for(
            policy.openid_config, policy.static_keys, policy.issuers, wait
        )
        iss = parsed.payload.get("iss")
        if isinstance(iss, str) and iss not in by_issuer:
            by_issuer = _with_tenant(by_issuer, iss, parsed.payload, policy)
        if (not isinstance(iss, str) or iss not in by_issuer) and missing:
            raise KeysUnavailable(
                "The gateway has not been able to fetch the issuer's signing keys yet."
            )
        issuer = check_issuer_and_type(parsed, policy, by_issuer.keys())
        if issuer not in by_issuer:
            raise TokenRejected("iss", "No signing keys are known for the token's issuer.")
        url, keyset = by_issuer[issuer]
        candidates = keyset.matching(parsed.kid)
        if (
            not candidates
            and parsed.kid is not None
            and url
            and await self.keys.refetch_for_unknown_kid(url, wait)
        ):
            refreshed = await self.keys.keyset(url, wait)
            if refreshed is not None and refreshed.issuer == issuer:
                candidates = refreshed.matching(parsed.kid)
        if not candidates:
            raise TokenRejected("kid", "The token's key id is not one of the issuer's keys.")
        key = verify_signature(parsed, candidates)
        exp = parsed.payload.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            if len(self._tokens) >= _TOKEN_CACHE_MAX:
                self.clear()
            self._tokens[token] = (
                policy,
                parsed,
                key,
                url,
                self.keys.current(url) if url else None,
            )
        return parsed
