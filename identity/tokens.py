"""JWT access tokens as RFC 9068 defines them, and the audience they are issued for.

Audience convention (contracts.md): every API has the audience `api://<slug>`; its scopes
are `<slug>.read` and `<slug>.write`. The RFC 8707 `resource` parameter wins when given;
otherwise the audience follows the prefixes of the requested API scopes (one audience, or
a list when they span APIs). A token with no API scope is for the userinfo endpoint.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from identity import issuer as issuer_mod
from identity import keys

API_SCOPE = re.compile(r"^(?P<slug>[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?)\.(?P<action>read|write)$")


def api_audience(slug: str) -> str:
    return f"api://{slug}"


def audience_for(scopes: Iterable[str], resources: Iterable[str], fallback: str) -> str | list[str]:
    """The `aud` claim: the resources if any, else one audience per API named by a scope."""
    chosen = list(dict.fromkeys(r for r in resources if r))
    if not chosen:
        for scope in scopes:
            match = API_SCOPE.match(scope)
            if match:
                chosen.append(api_audience(match["slug"]))
        chosen = list(dict.fromkeys(chosen))
    if not chosen:
        return fallback
    return chosen[0] if len(chosen) == 1 else chosen


def explicit_resources(request: Any) -> list[str]:
    """The RFC 8707 `resource` values this request itself names (query or body)."""
    raw = getattr(request, "resource", None)
    if isinstance(raw, str):
        body = [v for k, v in (getattr(request, "decoded_body", None) or []) if k == "resource"]
        resources = body if len(body) > 1 else [raw]
    elif isinstance(raw, list):
        resources = [r for r in raw if isinstance(r, str)]
    else:
        resources = []
    return [r for r in resources if r.strip()]


def code_resources(request: Any) -> list[str]:
    """The RFC 8707 resources the authorization code of this token request was granted for."""
    from oauth2_provider.models import get_grant_model

    grant = (
        get_grant_model()
        .objects.filter(code=request.code, application=request.client)
        .only("resource")
        .first()
    )
    return list(grant.resource or []) if grant else []


def _requested_resources(request: Any) -> list[str]:
    """RFC 8707 resources for this token request, before DOT normalises them on save.

    The generator runs before DOT's `_save_bearer_token`, so the values inherited from the
    authorization grant or the refresh token are looked up here the same way.
    """
    resources = explicit_resources(request)
    if resources:
        return resources
    grant_type = getattr(request, "grant_type", None)
    if grant_type == "authorization_code" and getattr(request, "code", None):
        return code_resources(request)
    if grant_type == "refresh_token":
        instance = getattr(request, "refresh_token_instance", None)
        return list(getattr(instance, "resource", None) or [])
    return []


def access_token_claims(request: Any, now: int | None = None) -> dict[str, Any]:
    now = int(time.time()) if now is None else now
    iss = issuer_mod.issuer_for_oauthlib(request)
    client_id = str(getattr(request.client, "client_id", None) or request.client_id)
    scopes = list(getattr(request, "scopes", None) or [])
    user = getattr(request, "user", None)
    if getattr(request, "grant_type", None) == "client_credentials" or user is None:
        sub = client_id  # RFC 9068 section 2.2: no resource owner, the client is the subject
    else:
        sub = str(user.pk)
    conf: dict[str, Any] = settings.OAUTH2_PROVIDER
    lifetime = int(conf.get("ACCESS_TOKEN_EXPIRE_SECONDS", 3600))
    lifetime = int(getattr(request, "expires_in", None) or lifetime)
    claims = {
        "iss": iss,
        "sub": sub,
        "aud": audience_for(scopes, _requested_resources(request), f"{iss}/userinfo/"),
        "client_id": client_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    if sub != client_id and user is not None and _may_name_the_user(request.client, scopes):
        # RFC 9068 §2.2.1 allows identity claims: a name to show beside the opaque `sub`.
        claims["preferred_username"] = user.get_username()
    return claims


def _may_name_the_user(client: Any, scopes: list[str]) -> bool:
    """A developer's application learns the username only with `profile`, as its consent
    page says ('See your name and username'); the application can read its access token
    (RFC 9068 section 6). Clients an administrator set up (the console's, whose token card
    names the user) always may."""
    if "profile" in scopes:
        return True
    try:
        client.developer_application  # noqa: B018  (the reverse one-to-one, or none)
    except ObjectDoesNotExist:
        return True
    except AttributeError:
        return True  # no client row (oauthlib's request without one)
    return False


def sign(claims: dict[str, Any]) -> str:
    key = keys.active_key()
    return jwt.encode(
        claims,
        keys.private_key_for(key),
        algorithm="RS256",
        headers={"typ": "at+jwt", "kid": key.kid},
    )


def generate_access_token(request: Any, refresh_token: bool = False) -> str:
    """DOT's ACCESS_TOKEN_GENERATOR: an RFC 9068 JWT signed with the current key."""
    return sign(access_token_claims(request))
