"""Access tokens revoked at the provider, where a verifier (the gateway) can read them.

DOT revokes an access token by deleting its row, which a JWT verifier never sees. Every
deletion of a live access token therefore leaves an `identity.RevokedToken` row; the new row
bumps the gateway's configuration version (gateway/signals.py), so a gateway that caches
verified tokens knows when to look again, as it does for keys and routes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import jwt
from django.core.cache import cache
from django.utils import timezone

from identity.models import RevokedToken


def checksum(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def jti_of(token: str) -> str:
    """The `jti` of one of our JWT access tokens (already verified by its row), or ''."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    value = claims.get("jti") if isinstance(claims, dict) else None
    return value[:64] if isinstance(value, str) else ""


def record(access_token: Any) -> None:
    """Called as an access token row is deleted (identity.apps connects it to pre_delete)."""
    if access_token.expires is None or access_token.expires <= timezone.now():
        return  # expired anyway: cleartokens, not a revocation
    token_checksum = access_token.token_checksum or (
        checksum(access_token.token) if access_token.token else ""
    )
    if not token_checksum:
        return
    jti = jti_of(access_token.token) if access_token.token else ""
    RevokedToken.objects.get_or_create(
        token_checksum=token_checksum,
        defaults={
            "jti": jti,
            "client_id": getattr(access_token.application, "client_id", "") or "",
            "expires": access_token.expires,
        },
    )


def note_jti(token: str) -> None:
    """At /idp/revoke/ the caller hands us the JWT itself: keep its jti for the row."""
    jti = jti_of(token)
    if jti:
        RevokedToken.objects.filter(token_checksum=checksum(token), jti="").update(jti=jti)


def is_revoked(token: str) -> bool:
    return RevokedToken.objects.filter(token_checksum=checksum(token)).exists()


def prune() -> int:
    deleted, _ = RevokedToken.objects.filter(expires__lte=timezone.now()).delete()
    return deleted


def revoke_user(user: Any) -> None:
    """Every live token of a deactivated user, and of their own applications' clients (client
    credentials tokens name no user): refresh tokens revoked, access tokens deleted (each
    leaves a RevokedToken row, so verifiers that check revocations refuse it)."""
    from django.db.models import Q
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    theirs = Q(user=user) | Q(application__developer_application__owner=user)
    refreshes = get_refresh_token_model().objects.filter(theirs, revoked__isnull=True)
    for refresh in refreshes:
        refresh.revoke()
    for access in get_access_token_model().objects.filter(theirs):
        access.revoke()


def _code_key(code: str) -> str:
    return f"identity:code-used:{checksum(code)}"


def remember_code(code: str, access_token: str) -> None:
    """After a code's exchange: which token family it gave, so a second use can revoke it
    (RFC 6749 section 4.1.2). Kept on the shared cache as long as a refresh token lives."""
    from oauth2_provider.models import get_refresh_token_model
    from oauth2_provider.settings import oauth2_settings

    refresh = (
        get_refresh_token_model()
        .objects.filter(access_token__token_checksum=checksum(access_token))
        .first()
    )
    family = str(refresh.token_family) if refresh is not None and refresh.token_family else ""
    cache.set(
        _code_key(code),
        {"access": checksum(access_token), "family": family},
        timeout=max(
            int(oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS or 0),
            int(oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS),
        ),
    )


def revoke_code_tokens(code: str) -> bool:
    """A code used again: revoke what its first exchange gave (the access token, and the
    refresh token family with every access token refreshed from it). True if it was one."""
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model

    used = cache.get(_code_key(code))
    if not isinstance(used, dict):
        return False
    if used.get("family"):
        get_refresh_token_model().revoke_family(used["family"])
    for access in get_access_token_model().objects.filter(token_checksum=used.get("access", "")):
        access.revoke()
    return True
