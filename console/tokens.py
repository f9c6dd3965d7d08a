"""Tokens kept in the server-side session, their decoded claims, and why a gateway refused one.

Tokens never reach the browser: the session is database-backed (never signed cookies), so the
browser holds only the session id. Sign-out flushes the session and with it every token
(SECURITY.md case 60). The claims are decoded for display only; the gateway verifies them.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets
import time
from collections.abc import Iterable, MutableMapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeGuard

SESSION_KEY = "console_tokens"


def scopes_key(scopes: Iterable[str]) -> str:
    return " ".join(sorted({s for s in scopes if s}))


def split_scopes(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split() if isinstance(value, str) else list(value)
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(str(item), None)
    return list(seen)


@dataclass
class Token:
    server: str  # AuthorizationServer.slug
    server_name: str
    grant: str
    scopes: str  # the scopes asked for, sorted, space-separated: with server, the store key
    access_token: str
    token_type: str = "Bearer"
    refresh_token: str = ""
    expires_at: float | None = None
    scope: str = ""  # the scopes granted, when the server says
    obtained_at: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: secrets.token_urlsafe(8))

    @property
    def key(self) -> str:
        return f"{self.server} {self.scopes}"

    @property
    def expiry(self) -> float | None:
        """When the token stops working: the server's expires_in, or the JWT's own exp when
        that is earlier. The gateway reads exp; a server whose clock is behind the portal's
        (or whose expires_in outlasts its tokens' exp) left a token the gateway refused as
        expired, which the console neither refreshed nor showed as expired."""
        known: list[float] = [
            float(value)
            for value in (self.expires_at, (self.claims or {}).get("exp"))
            if _finite(value)  # (a non-finite expires_at may sit in an older session)
        ]
        return min(known) if known else None

    def expires_in(self, now: float | None = None) -> int | None:
        expiry = self.expiry
        if expiry is None:
            return None
        return int(expiry - (time.time() if now is None else now))

    def is_expired(self, margin: int = 0, now: float | None = None) -> bool:
        remaining = self.expires_in(now)
        return remaining is not None and remaining <= margin

    @property
    def claims(self) -> dict[str, Any] | None:
        return decode_claims(self.access_token)

    @property
    def granted_scopes(self) -> list[str]:
        claims = self.claims or {}
        scope = claims.get("scope", claims.get("scp"))
        if isinstance(scope, str | list):
            return split_scopes(scope)
        return split_scopes(self.scope or self.scopes)

    @classmethod
    def from_response(
        cls, response: dict[str, Any], *, server: str, server_name: str, grant: str, scopes: str
    ) -> Token:
        """A Token from an RFC 6749 token response (already checked by oauthlib)."""
        expires_at: float | None = None
        raw_expiry = response.get("expires_at")
        raw_in = response.get("expires_in")
        try:
            if isinstance(raw_expiry, int | float):
                expires_at = float(raw_expiry)
            elif raw_in not in (None, ""):
                expires_at = time.time() + float(raw_in)
        except (TypeError, ValueError, OverflowError):  # OverflowError: an int past any float
            expires_at = None
        if expires_at is not None and not math.isfinite(expires_at):
            expires_at = None  # "inf", "nan", 1e999: no known expiry, like none at all
        scope = response.get("scope", "")
        return cls(
            server=server,
            server_name=server_name,
            grant=grant,
            scopes=scopes,
            access_token=str(response["access_token"]),
            token_type=str(response.get("token_type") or "Bearer").strip() or "Bearer",
            refresh_token=str(response.get("refresh_token") or ""),
            expires_at=expires_at,
            scope=" ".join(scope) if isinstance(scope, list) else str(scope or ""),
        )


class TokenStore:
    """The signed-in user's tokens, keyed by authorization server and scopes."""

    def __init__(self, session: MutableMapping[str, Any]) -> None:
        self.session = session

    def _raw(self) -> dict[str, dict[str, Any]]:
        raw = self.session.get(SESSION_KEY)
        return raw if isinstance(raw, dict) else {}

    def _save(self, raw: dict[str, dict[str, Any]]) -> None:
        self.session[SESSION_KEY] = raw
        # Mutating a nested dict is invisible to the session; say it changed.
        if hasattr(self.session, "modified"):
            self.session.modified = True

    def all(self) -> list[Token]:
        tokens = []
        for item in self._raw().values():
            try:
                tokens.append(Token(**item))
            except TypeError:
                continue  # a shape from an older release: drop it silently
        return sorted(tokens, key=lambda t: t.obtained_at, reverse=True)

    def for_servers(self, slugs: Iterable[str]) -> list[Token]:
        wanted = set(slugs)
        return [t for t in self.all() if t.server in wanted]

    def get(self, token_id: str) -> Token | None:
        item = self._raw().get(token_id)
        if item is None:
            return None
        try:
            return Token(**item)
        except TypeError:
            return None

    def put(self, token: Token) -> Token:
        """Keep a token, replacing any earlier one for the same server and scopes."""
        raw = {
            k: v
            for k, v in self._raw().items()
            if f"{v.get('server')} {v.get('scopes')}" != token.key
        }
        raw[token.id] = asdict(token)
        self._save(raw)
        return token

    def replace(self, old: Token, new: Token) -> Token:
        """Swap a refreshed token in under the old one's id, so forms that name it still work."""
        new.id = old.id
        return self.put(new)

    def forget(self, token_id: str) -> Token | None:
        raw = self._raw()
        item = raw.pop(token_id, None)
        self._save(raw)
        return Token(**item) if item else None

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (`"\\ud800"` in the JSON) is no text a page can encode: the
        # token card failed to draw (a 500 on every visit while the token was kept).
        value = json.loads(text.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    return value


def decode_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT, unverified, for display; None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 16_384:
        return None
    try:
        payload = _b64url_json(parts[1])
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def decode_header(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = _b64url_json(parts[0])
    except (ValueError, binascii.Error, UnicodeError, RecursionError):
        return None
    return header if isinstance(header, dict) else None


def audiences(claims: dict[str, Any]) -> list[str]:
    aud = claims.get("aud")
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [str(a) for a in aud]
    return []


def _finite(value: Any) -> TypeGuard[int | float]:
    """A JSON number a float can hold and arithmetic can use (no bool, NaN or infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int past any float
        return False


def format_timestamp(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    try:
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return str(value)


_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_www_authenticate(value: str) -> dict[str, str]:
    """The auth-params of a Bearer challenge (RFC 6750 section 3)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return {}
    return {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _CHALLENGE_PARAM.finditer(rest)
    }


_KEY_REASONS = {
    "subscription-key": "The subscription key is missing or unknown: choose one of your keys "
    "above, or subscribe to a product that offers this API.",
    "subscription-state": "Your subscription is not active; My subscriptions shows its state.",
    "subscription-scope": "The key's subscription does not include this API: use a key of a "
    "product that offers it.",
}


GATEWAY_CHECK_HEADER = "x-gateway-check"  # gateway/problems.py CHECK_HEADER


@dataclass
class Rejection:
    """Why the gateway refused a call, in words set beside the decoded token."""

    status: int
    error: str = ""
    check: str = ""
    title: str = ""
    detail: str = ""
    reasons: list[str] = field(default_factory=list)
    # False: the API's own server refused it (the gateway let it through, or the call did
    # not go through the gateway); its body is the API's, whatever it says.
    by_gateway: bool = True
    via_gateway: bool = True


def explain_rejection(
    status: int,
    headers: dict[str, str],
    problem: dict[str, Any] | None,
    claims: dict[str, Any] | None,
    *,
    expected_audience: str = "",
    required_scopes: Iterable[str] = (),
    now: float | None = None,
    via_gateway: bool = True,
) -> Rejection:
    """Compare the gateway's answer (RFC 6750 challenge, RFC 9457 problem) with the token.

    The gateway marks its own refusals with `X-Gateway-Check` and drops that header from
    what backends answer; without it (or when the call did not go through the gateway) the
    refusal is the API's own, and a `check` in its body is not believed."""
    lowered = {k.lower(): v for k, v in headers.items()}
    challenge = parse_www_authenticate(lowered.get("www-authenticate", ""))
    problem = problem or {}
    by_gateway = via_gateway and GATEWAY_CHECK_HEADER in lowered
    rejection = Rejection(
        status=status,
        error=challenge.get("error", ""),
        check=lowered[GATEWAY_CHECK_HEADER].strip()[:40] if by_gateway else "",
        title=str(problem.get("title") or ""),
        detail=str(problem.get("detail") or challenge.get("error_description") or ""),
        by_gateway=by_gateway,
        via_gateway=via_gateway,
    )
    reasons = rejection.reasons
    if rejection.check in _KEY_REASONS:
        # The subscription key was refused, not the token: token advice would mislead (an
        # API that needs only a key has no token to get).
        reasons.append(_KEY_REASONS[rejection.check])
        return rejection
    if claims is None:
        if challenge.get("error"):
            reasons.append("The token is not a JWT, so its claims cannot be shown here.")
        elif rejection.check in ("", "missing"):
            reasons.append("The call carried no token: get a token above, then send again.")
        return rejection

    check = rejection.check or ("scope" if rejection.error == "insufficient_scope" else "")
    token_aud = audiences(claims)
    token_scopes = split_scopes(claims.get("scope") if isinstance(claims.get("scope"), str) else "")
    wanted_scopes = split_scopes(challenge.get("scope", "")) or split_scopes(list(required_scopes))
    moment = time.time() if now is None else now

    # The check the gateway names is the reason; what the claims suggest is said only when
    # it names none (it checks the signature, iss, typ and alg before exp and aud: a token
    # refused for its signature was explained by its exp or aud, which it never reached).
    named = bool(rejection.check)
    wrong_aud = bool(expected_audience and token_aud and expected_audience not in token_aud)
    if check == "aud" or (not named and wrong_aud):
        shown = ", ".join(token_aud) if token_aud else "missing"
        if check == "aud" and claims.get("aud") is not None and not token_aud and rejection.detail:
            # A number or an object: no audience list at all, not a 'missing' one.
            reasons.append(f"The token's aud ({claims['aud']}) was refused: {rejection.detail}")
        elif check == "aud" and expected_audience in token_aud and rejection.detail:
            # This API's audience is there: the gateway refused the others beside it (a
            # strict route) or takes none; 'this API expects X' contradicted the token.
            reasons.append(f"The token's aud is {shown}: {rejection.detail}")
        elif expected_audience:
            reasons.append(f"The token's aud is {shown}; this API expects {expected_audience}.")
        else:
            reasons.append(f"The token's aud ({shown}) is not accepted by this API.")
    if check == "scope" or rejection.error == "insufficient_scope":
        missing = [s for s in wanted_scopes if s not in token_scopes]
        if "scope" in claims and not isinstance(claims["scope"], str) and rejection.detail:
            # A list or number the gateway refused as no RFC 9068 scope string: not 'the
            # token has no scopes'.
            reasons.append(rejection.detail)
        elif missing:
            noun = "scope" if len(missing) == 1 else "scopes"
            verb = "is" if len(missing) == 1 else "are"
            reasons.append(
                f"The {noun} {' '.join(missing)} {verb} missing "
                f"(the token has: {' '.join(token_scopes) or 'no scopes'})."
            )
        else:
            reasons.append(
                f"The token's scopes ({' '.join(token_scopes) or 'none'}) do not cover "
                "this operation."
            )
    exp = claims.get("exp")
    exp = exp if _finite(exp) else None  # -1e999 reads as -infinity; 10**400 fits no float
    # Expired from its exp second on (exp <= now), as the gateway (gateway/jwt.py) and the
    # panel's countdown judge it.
    if check == "exp" or (not named and exp is not None and exp <= moment):
        if exp is not None and exp > moment:
            # Named by a gateway whose clock is ahead of the portal's (beyond its leeway).
            reasons.append(
                f"The token expires at {format_timestamp(exp)} by this portal's clock, but "
                "the gateway's clock found it expired; get or refresh a token."
            )
        elif exp is not None:
            reasons.append(
                f"The token expired at {format_timestamp(exp)} "
                f"({int(moment - exp)} s ago); get or refresh a token."
            )
        else:
            reasons.append("The token has no usable exp claim.")
    if check == "iss":
        # The gateway names iss for an untrusted issuer, a missing one, or a trusted one whose
        # keys it has none of: its own words say which.
        iss = claims.get("iss", "missing")
        reasons.append(
            f"The token's iss ({iss}) was refused: {rejection.detail}"
            if rejection.detail
            else f"The token's iss ({iss}) is not an issuer this API trusts."
        )
    if check in {"nbf", "iat"}:
        value = claims.get(check)
        if _finite(value):
            reasons.append(f"The token's {check} ({format_timestamp(value)}) is in the future.")
        else:
            # Named for a value that is no time at all ("soon", true, 1e400): not "future".
            reasons.append(rejection.detail or f"The token's {check} claim is not a number.")
    if not reasons and by_gateway:
        reasons.append(rejection.detail or rejection.title or f"The gateway answered {status}.")
    return rejection
