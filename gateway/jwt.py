"""validate-jwt: the checks a resource server makes on a bearer access token.

The semantics follow Azure API Management's `validate-jwt` policy, tightened by RFC 9068
(JWT access tokens) and RFC 8725 (JWT BCP). PyJWT does the signature arithmetic; everything
PyJWT does not check (size before decoding, duplicate JSON members, `typ`, `crit`, `exp`
presence and type, key/algorithm pairing, keys per issuer) is done here on our own parse.

Nothing here sees a request: `extract_token` takes header and query values, `parse` and
`check_claims` take strings and dicts, and every failure is a `TokenRejected` carrying the
machine-readable check id the console shows.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jwt.algorithms import ECAlgorithm, RSAAlgorithm, RSAPSSAlgorithm
from jwt.exceptions import InvalidKeyError

from accounts.issuers import is_template
from portal.lib.headers import CONTROL_CHARACTERS

# The only algorithms the gateway can ever accept, by key type. A policy narrows this; the
# token never widens it (RFC 8725 section 3.1). HS* is absent on purpose: a symmetric secret
# never sits beside asymmetric keys.
SUPPORTED_ALGORITHMS: dict[str, str] = {
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
}
DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256")
_EC_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_EC_SIG_LEN = {"ES256": 64, "ES384": 96, "ES512": 132}
# The group orders of P-256, P-384 and P-521: an ECDSA signature (r, s) has a twin (r, n - s)
# that verifies too (the "high-S" form; most JOSE libraries, and signers that never normalise
# S, take both, so both are accepted). See ecdsa_twin.
_EC_ORDERS = {
    "ES256": int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16),
    "ES384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    "ES512": int(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}

_VERIFIERS: dict[str, Any] = {
    "RS256": RSAAlgorithm(RSAAlgorithm.SHA256),
    "RS384": RSAAlgorithm(RSAAlgorithm.SHA384),
    "RS512": RSAAlgorithm(RSAAlgorithm.SHA512),
    "PS256": RSAPSSAlgorithm(RSAPSSAlgorithm.SHA256),
    "PS384": RSAPSSAlgorithm(RSAPSSAlgorithm.SHA384),
    "PS512": RSAPSSAlgorithm(RSAPSSAlgorithm.SHA512),
    "ES256": ECAlgorithm(ECAlgorithm.SHA256),
    "ES384": ECAlgorithm(ECAlgorithm.SHA384),
    "ES512": ECAlgorithm(ECAlgorithm.SHA512),
}

# Three base64url segments without padding; the signature may be empty only so that we can
# name the failure ("unsigned token") instead of calling it malformed.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_MAX_KID = 256
# RFC 7518 section 3.3 (RS*) and 3.5 (PS*): "A key of size 2048 bits or larger MUST be used".
# A shorter key can be factored (512 bits in hours), and then anyone signs for its issuer.
MIN_RSA_BITS = 2048
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # in JSON text: a surrogate, maybe lone
RFC9068_CLAIMS = ("sub", "client_id", "iat", "jti")


class TokenRejected(Exception):
    """A failed check. `check` is the machine-readable id shown by the console."""

    def __init__(
        self,
        check: str,
        detail: str,
        *,
        status: int = 401,
        error: str | None = "invalid_token",
        scope: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.check = check
        self.detail = detail
        self.status = status
        self.error = error
        self.scope = scope


class KeysUnavailable(Exception):
    """No key set was ever fetched for an issuer the token may belong to: answer 503."""

    check = "keys"


@dataclass(frozen=True)
class ClaimRule:
    """One `<claim>` of APIM's `<required-claims>`, optionally limited to some operations."""

    name: str
    values: tuple[str, ...]
    match: str = "all"  # "all" or "any"
    separator: str = ""
    methods: frozenset[str] = frozenset()
    operation: str = ""

    def applies_to(self, method: str, operation: str | None) -> bool:
        # HEAD is GET without the body (RFC 9110 9.3.2): the operation match reads it so and
        # backends run their GET handler, so a rule for GET holds for HEAD too.
        held = method in self.methods or (method == "HEAD" and "GET" in self.methods)
        if self.methods and not held:
            return False
        return not (self.operation and self.operation != operation)


@dataclass(frozen=True)
class Policy:
    """A validate-jwt policy: APIM's attributes and defaults plus the RFC 9068/8725 extras."""

    header_name: str = "Authorization"
    query_parameter_name: str = ""
    require_scheme: str = "Bearer"
    failed_status: int = 401
    failed_message: str = ""
    require_expiration_time: bool = True
    require_signed_tokens: bool = True
    clock_skew: int = 0
    openid_config: tuple[str, ...] = ()
    issuers: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    # `audiences: any` in the configuration: the audience check is skipped on purpose.
    # Without it, a policy that names no audience accepts no token.
    any_audience: bool = False
    required_claims: tuple[ClaimRule, ...] = ()
    algorithms: frozenset[str] = frozenset(DEFAULT_ALGORITHMS)
    typ_exempt_issuers: frozenset[str] = frozenset()
    require_rfc9068_claims: bool = True
    max_lifetime: int | None = 24 * 3600  # None: no cap (`max-lifetime: none`)
    max_token_bytes: int = 8192
    strict_audience: bool = False
    # The token's client must hold this API through an active subscription (gateway/clients.py).
    require_subscribed_client: bool = False
    # Keys from `issuer-signing-keys`, valid for every issuer in `issuers`.
    static_keys: tuple[PublicKey, ...] = field(default=())

    @functools.cached_property
    def has_operation_rules(self) -> bool:
        return any(rule.operation for rule in self.required_claims)

    @functools.cached_property
    def header_key(self) -> bytes:
        """The header name as ASGI gives it: lower-case bytes."""
        return self.header_name.lower().encode("latin-1")


@dataclass(frozen=True)
class PublicKey:
    """A verification key with what it may verify: its type, curve and optional JWK `alg`."""

    kty: str
    key: Any
    kid: str | None = None
    alg: str | None = None
    crv: str | None = None

    def can_verify(self, alg: str) -> bool:
        if SUPPORTED_ALGORITHMS.get(alg) != self.kty:
            return False
        if self.alg is not None and self.alg != alg:
            return False
        return not (self.kty == "EC" and _EC_CURVES.get(alg) != self.crv)


@dataclass(frozen=True)
class ParsedToken:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def issuer(self) -> str:
        return str(self.payload["iss"])


@dataclass(frozen=True)
class Verdict:
    """What a passing token grants, for headers, logs and rate-limit keys."""

    subject: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    extra_audiences: tuple[str, ...] = ()
    # The token's iss: a sub or client_id names one party only together with its issuer.
    issuer: str = ""
    # The time window in which every check above gives the same answer (for caching).
    valid_from: float = float("-inf")
    valid_until: float = float("inf")


# --- keys -------------------------------------------------------------------------------


def key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey | None:
    """A `PublicKey` from one JWKS member, or None for members we cannot or must not use.

    Symmetric (`oct`) keys, private members, encryption keys and unknown curves are skipped:
    a JWKS is published material and only its public signature keys count.
    """
    kty = jwk.get("kty")
    use = jwk.get("use")
    if use not in (None, "sig"):
        return None
    if any(name in jwk for name in ("d", "p", "q", "k")):
        return None
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        return None
    alg = jwk.get("alg")
    if alg is not None and alg not in SUPPORTED_ALGORITHMS:
        return None
    text = json.dumps(dict(jwk))
    try:
        if kty == "RSA":
            loaded = RSAAlgorithm.from_jwk(text)
            if loaded.key_size < MIN_RSA_BITS:
                return None
            return PublicKey("RSA", loaded, kid, alg)
        if kty == "EC" and jwk.get("crv") in _EC_CURVES.values():
            return PublicKey("EC", ECAlgorithm.from_jwk(text), kid, alg, str(jwk["crv"]))
    except (InvalidKeyError, ValueError, TypeError, KeyError):
        return None
    return None


def key_from_config(item: Mapping[str, Any]) -> PublicKey:
    """An `issuer-signing-keys` entry: {"pem": ...} or {"n": ..., "e": ...}, with optional kid.

    Raises ValueError with a readable reason; configuration is validated with this.
    """
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    kid = item.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise ValueError("kid must be a string")
    if "pem" in item:
        try:
            loaded = load_pem_public_key(str(item["pem"]).encode())
        except (ValueError, TypeError) as exc:
            raise ValueError(f"pem is not a public key in PEM form ({exc})") from None
        if isinstance(loaded, rsa.RSAPublicKey):
            if loaded.key_size < MIN_RSA_BITS:
                raise ValueError(_weak_rsa(loaded.key_size))
            return PublicKey("RSA", loaded, kid, item.get("alg"))
        if isinstance(loaded, ec.EllipticCurvePublicKey):
            crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(
                loaded.curve.name
            )
            if crv is None:
                raise ValueError(f"unsupported curve {loaded.curve.name}")
            return PublicKey("EC", loaded, kid, item.get("alg"), crv)
        raise ValueError("only RSA and EC public keys are supported")
    if "n" in item and "e" in item:
        key = key_from_jwk({"kty": "RSA", "n": item["n"], "e": item["e"], "kid": kid})
        if key is None:
            bits = _rsa_bits(item["n"])
            if bits and bits < MIN_RSA_BITS:
                raise ValueError(_weak_rsa(bits))
            raise ValueError("n and e are not a valid base64url RSA public key")
        return key
    raise ValueError("a signing key needs `pem`, or `n` and `e`")


def _weak_rsa(bits: int) -> str:
    return f"an RSA key of {bits} bits; RS* and PS* need {MIN_RSA_BITS} or more (RFC 7518)"


def _rsa_bits(n: Any) -> int | None:
    """The bit length of a base64url modulus, or None when it is not one."""
    try:
        return int.from_bytes(_b64decode(str(n)), "big").bit_length()
    except (binascii.Error, ValueError):
        return None


# --- parsing ----------------------------------------------------------------------------


def extract_token(policy: Policy, header_value: str | None, query_value: str | None) -> str:
    """The raw token from the configured header (with scheme) or query parameter.

    RFC 6750 section 2: a client uses one method only, so a token in both places is a
    400 invalid_request. Without a configured query parameter, `access_token` in the query
    is ignored (the caller passes it only to detect the two-places case).
    """
    if header_value is not None and query_value is not None:
        raise TokenRejected(
            "request",
            "The token was sent both in a header and in the query; send it once.",
            status=400,
            error="invalid_request",
        )
    if header_value is None:
        if query_value is not None and policy.query_parameter_name:
            return query_value
        raise TokenRejected("missing", "No access token was sent.", error=None)
    if len(header_value) > policy.max_token_bytes + 64:
        raise TokenRejected(
            "size", f"The {policy.header_name} header is larger than the token size limit."
        )
    if not policy.require_scheme:
        return header_value.strip()
    scheme, _, rest = header_value.strip().partition(" ")
    if scheme.lower() != policy.require_scheme.lower() or not rest.strip():
        raise TokenRejected(
            "scheme",
            f"The {policy.header_name} header must use the {policy.require_scheme} scheme.",
            error=None if scheme.lower() != policy.require_scheme.lower() else "invalid_token",
        )
    return rest.strip()


class _DuplicateMember(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateMember(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Header parameters only an encrypted token (JWE) has: a signed token carrying one is refused.
_JWE_ONLY = ("zip", "enc")


def _b64decode(segment: str) -> bytes:
    """The bytes of a base64url segment in its one canonical spelling. The last character
    of a segment can carry bits no decoder reads; left free, one token has 16 spellings with
    the same bytes, and a revocation (by checksum of the string) would miss 15 of them."""
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != segment.encode("ascii"):
        raise ValueError("not the canonical base64url spelling")
    return raw


def _has_surrogate(value: Any) -> bool:
    """Whether a decoded JSON value holds a lone surrogate (in a key or a string). Walked
    with a list, not recursion: arrays nested thousands deep fit in a token."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= c <= "\udfff" for c in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _decode_object(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = _b64decode(segment)
    except (binascii.Error, ValueError):
        raise TokenRejected("format", f"The token {what} is not base64url.") from None
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _DuplicateMember as dup:
        raise TokenRejected(
            "duplicate", f"The token {what} repeats the member {str(dup)[:40]!r}."
        ) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TokenRejected("format", f"The token {what} is not JSON.") from None
    if not isinstance(value, dict):
        raise TokenRejected("format", f"The token {what} is not a JSON object.")
    if _SURROGATE_ESCAPE.search(text) and _has_surrogate(value):
        # `"\ud800"` is valid JSON but no Unicode text: it has no UTF-8 form for the
        # X-User-* headers or the logs. (An escaped pair is one real character: accepted.)
        raise TokenRejected("format", f"The token {what} has text that is not Unicode.")
    return value


def parse(token: str, policy: Policy) -> ParsedToken:
    """Split and decode a compact JWS, refusing anything odd before any signature work."""
    if len(token) > policy.max_token_bytes:
        raise TokenRejected("size", f"The token is longer than {policy.max_token_bytes} bytes.")
    if token.count(".") != 2:
        raise TokenRejected(
            "format",
            f"The token has {token.count('.') + 1} segments; a signed JWT has 3"
            + (" (encrypted tokens are not accepted)." if token.count(".") == 4 else "."),
        )
    if not _COMPACT.fullmatch(token):
        raise TokenRejected("format", "The token is not three unpadded base64url segments.")
    head_b64, body_b64, sig_b64 = token.split(".")
    header = _decode_object(head_b64, "header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none" or not sig_b64:
        raise TokenRejected("alg", "Unsigned tokens are not accepted.")
    if alg not in policy.algorithms or alg not in SUPPORTED_ALGORITHMS:
        raise TokenRejected(
            "alg",
            f"The algorithm {alg[:20]!r} is not allowed; allowed: "
            + ", ".join(sorted(policy.algorithms)),
        )
    if "crit" in header:
        raise TokenRejected("crit", "The token header has critical extensions we do not know.")
    # Membership tests on the few-member header, once per token (verdicts are cached). cty
    # "JWT" marks a nested token (RFC 7519 5.2); zip and enc are JWE's (RFC 7516 4.1): either
    # way the header does not describe a plain signed token, whatever its payload holds.
    if "cty" in header:
        cty = header["cty"]
        if isinstance(cty, str) and cty.lower().removeprefix("application/") == "jwt":
            raise TokenRejected("cty", "Nested tokens (header cty JWT) are not accepted.")
    for name in _JWE_ONLY:
        if name in header:
            raise TokenRejected(
                name, f"The token header has {name}, a parameter of encrypted tokens (JWE)."
            )
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > _MAX_KID):
        raise TokenRejected("kid", "The token header's kid is not a short string.")
    payload = _decode_object(body_b64, "payload")
    try:
        signature = _b64decode(sig_b64)
    except (binascii.Error, ValueError):
        raise TokenRejected("format", "The token signature is not base64url.") from None
    return ParsedToken(header, payload, f"{head_b64}.{body_b64}".encode("ascii"), signature)


def check_issuer_and_type(parsed: ParsedToken, policy: Policy, known_issuers: Iterable[str]) -> str:
    """The token's issuer, after checking it is configured and `typ` suits that issuer."""
    iss = parsed.payload.get("iss")
    if not isinstance(iss, str) or not iss:
        raise TokenRejected("iss", "The token has no issuer (iss).")
    allowed = set(policy.issuers) if policy.issuers else set(known_issuers)
    if iss not in allowed:
        if not policy.issuers and any(is_template(known) for known in allowed):
            # Entra's multi-tenant discovery names every tenant's issuer by one template:
            # trusting it whole would let any tenant's tokens in.
            raise TokenRejected(
                "iss",
                "The provider's issuer is a tenant template ({tenantid}): the API must list "
                "the tenants' issuers it trusts in issuers.",
            )
        raise TokenRejected("iss", "The token's issuer is not one this API trusts.")
    typ = parsed.header.get("typ")
    norm = typ.lower().removeprefix("application/") if isinstance(typ, str) else None
    if norm != "at+jwt" and not (iss in policy.typ_exempt_issuers and norm in (None, "jwt")):
        raise TokenRejected(
            "typ",
            "The token is not an access token: header typ must be at+jwt (RFC 9068).",
        )
    return iss


def ecdsa_twin(parsed: ParsedToken) -> str | None:
    """The token's other spelling when it is ECDSA-signed: the same header and payload with the
    signature's s replaced by n - s, which verifies as well. A check keyed on the token's
    string (a revocation's checksum) looks at both, so the twin of a revoked token is refused
    too. None for other algorithms or a signature of the wrong length."""
    order = _EC_ORDERS.get(parsed.alg)
    size = _EC_SIG_LEN.get(parsed.alg, 0)
    if order is None or len(parsed.signature) != size:
        return None
    half = size // 2
    s = int.from_bytes(parsed.signature[half:], "big")
    if not 0 < s < order:
        return None
    twin = parsed.signature[:half] + (order - s).to_bytes(half, "big")
    signature = base64.urlsafe_b64encode(twin).rstrip(b"=")
    return (parsed.signing_input + b"." + signature).decode("ascii")


def verify_signature(parsed: ParsedToken, keys: Iterable[PublicKey]) -> PublicKey:
    """The key that verifies the token. `keys` are the issuer's keys for the token's kid."""
    alg = parsed.alg
    if alg in _EC_SIG_LEN and len(parsed.signature) != _EC_SIG_LEN[alg]:
        raise TokenRejected("signature", "The token signature has the wrong length.")
    verifier = _VERIFIERS[alg]
    tried = False
    for key in keys:
        if not key.can_verify(alg):
            continue
        tried = True
        if key.kty == "RSA" and len(parsed.signature) != (key.key.key_size + 7) // 8:
            # RFC 7518 3.3, 3.5: as long as the modulus. OpenSSL's PSS check also takes one
            # with a leading zero byte dropped: a second spelling of the same token.
            continue
        try:
            if verifier.verify(parsed.signing_input, key.key, parsed.signature):
                return key
        except (ValueError, TypeError):
            continue
    if not tried:
        raise TokenRejected("alg", f"No key of the issuer is meant for {alg}.")
    raise TokenRejected("signature", "The token signature does not verify.")


def _number(payload: Mapping[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None and name not in payload:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(name, f"The {name} claim is not a number.")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits: JSON numbers have no range
        number = math.inf
    if not math.isfinite(number):
        # 1e400 reads as infinity: an `exp` that never comes, or an `nbf` before all time.
        raise TokenRejected(name, f"The {name} claim is out of range.")
    return number


def _claim_values(payload: Mapping[str, Any], rule: ClaimRule) -> set[str] | None:
    value = payload.get(rule.name)
    if value is None:
        return None
    if rule.separator:
        if not isinstance(value, str):
            raise TokenRejected(
                rule.name, f"The {rule.name} claim must be a {rule.separator!r}-delimited string."
            )
        return {v for v in value.split(rule.separator) if v}
    if isinstance(value, str):
        return {value}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return set(value)
    raise TokenRejected(rule.name, f"The {rule.name} claim is not a string or list of strings.")


def check_claims(
    parsed: ParsedToken,
    policy: Policy,
    now: float,
    *,
    method: str = "GET",
    operation: str | None = None,
) -> Verdict:
    """Time, audience, RFC 9068 and required claims. Scope failures answer 403."""
    payload = parsed.payload
    skew = policy.clock_skew
    exp = _number(payload, "exp")
    if exp is None and policy.require_expiration_time:
        raise TokenRejected("exp", "The token has no expiry (exp).")
    if exp is not None and exp + skew <= now:
        raise TokenRejected("exp", "The token has expired.")
    nbf = _number(payload, "nbf")
    if nbf is not None and nbf - skew > now:
        raise TokenRejected("nbf", "The token is not valid yet (nbf).")
    iat = _number(payload, "iat")
    if iat is not None and iat - skew > now:
        raise TokenRejected("iat", "The token was issued in the future (iat).")
    if (
        exp is not None
        and policy.max_lifetime is not None
        and exp - (iat if iat is not None else now) > policy.max_lifetime
    ):
        raise TokenRejected(
            "lifetime", f"The token lives longer than the allowed {policy.max_lifetime} s."
        )
    if policy.require_rfc9068_claims:
        for name in RFC9068_CLAIMS:
            if name not in payload:
                raise TokenRejected(name, f"The token has no {name} claim (RFC 9068).")
        for name in ("sub", "client_id", "jti"):
            if not isinstance(payload[name], str):
                raise TokenRejected(name, f"The {name} claim is not a string.")
            if not payload[name]:
                raise TokenRejected(name, f"The {name} claim is empty.")

    aud = payload.get("aud")
    if isinstance(aud, str):
        auds = [aud]
    elif isinstance(aud, list) and aud and all(isinstance(a, str) for a in aud):
        auds = list(aud)
    else:
        raise TokenRejected("aud", "The token has no audience (aud).")
    extra: tuple[str, ...] = ()
    if policy.any_audience:
        pass
    elif not policy.audiences:
        raise TokenRejected("aud", "This API's policy accepts no audience.")
    else:
        if not set(auds) & set(policy.audiences):
            raise TokenRejected("aud", "The token is not meant for this API (aud).")
        extra = tuple(a for a in auds if a not in policy.audiences)
        if extra and policy.strict_audience:
            raise TokenRejected("aud", "The token names other audiences besides this API.")

    scope_claim = payload.get("scope")
    if scope_claim is not None and not isinstance(scope_claim, str):
        raise TokenRejected("scope", "The scope claim must be a space-delimited string.")
    scp = payload.get("scp")
    raw_scopes = scope_claim if scope_claim is not None else (scp if isinstance(scp, str) else "")
    scopes = tuple(s for s in raw_scopes.split(" ") if s)

    for rule in policy.required_claims:
        if not rule.applies_to(method, operation):
            continue
        present = _claim_values(payload, rule) or set()
        needed = set(rule.values)
        ok = needed <= present if rule.match == "all" else bool(needed & present)
        if ok:
            continue
        if rule.name in ("scope", "scp"):
            missing = sorted(needed - present) if rule.match == "all" else sorted(needed)
            raise TokenRejected(
                "scope",
                "The token lacks the scope "
                + (" and ".join(missing) if rule.match == "all" else " or ".join(missing))
                + " that this operation needs.",
                status=403,
                error="insufficient_scope",
                scope=" ".join(missing),
            )
        raise TokenRejected(rule.name, f"The token's {rule.name} claim does not match the policy.")

    subject = payload.get("sub")
    client_id = payload.get("client_id") or payload.get("azp") or payload.get("appid") or ""
    for name, value in (("sub", subject), ("client_id", client_id)):
        # They reach the backend as X-User-* headers, which cannot carry control characters:
        # stripped, "ad\x00min" would name the user admin there.
        if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
            raise TokenRejected(name, f"The {name} claim has control characters.")
    starts = [t - skew for t in (nbf, iat) if t is not None]
    return Verdict(
        subject=subject if isinstance(subject, str) else "",
        client_id=client_id if isinstance(client_id, str) else "",
        scopes=scopes,
        expires_at=exp if exp is not None else now + 300,
        extra_audiences=extra,
        issuer=payload["iss"] if isinstance(payload.get("iss"), str) else "",
        valid_from=max(starts) if starts else float("-inf"),
        valid_until=exp + skew if exp is not None else now + 300,
    )
