"""requests-oauthlib on the portal's outbound wrapper, and the checks of what a token
endpoint answers before oauthlib reads it.

requests-oauthlib builds and parses every OAuth message; `Session.send` hands the prepared
request to `console.http`, which calls `portal.lib.outbound` (timeouts, size cap,
resolved-address checks, no redirects).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import requests
from requests.structures import CaseInsensitiveDict
from requests_oauthlib import OAuth2Session

from console import http
from console.refusals import GrantError

# The longest token a gateway route takes (gateway Policy.max_token_bytes allows up to this).
TOKEN_MAX = 65536
_TOKEN_TYPE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")  # RFC 6749 section 11.1: a type-name


def _visible(value: str) -> bool:
    """RFC 6749 appendix A: tokens are VSCHARs (printable ASCII), which a header carries."""
    return all(" " <= c <= "~" for c in value)


def check_token_fields(params: Any) -> None:
    """Refuse a token response whose fields no request could carry or oauthlib could read:
    an access_token that is no string (kept as its Python text and sent as the token), one
    past what any gateway takes or with characters a header cannot carry; a token_type that
    is no RFC 6749 type name (it becomes the Authorization scheme); an expires_in or scope
    of another type (oauthlib raised TypeError or AttributeError: a 500)."""
    if not isinstance(params, dict) or "error" in params:
        return  # oauthlib reports a missing token or the server's error
    token = params.get("access_token")
    if "access_token" in params and not (isinstance(token, str) and token):
        raise GrantError("The token response's access_token is not a string.")
    for name in ("access_token", "refresh_token"):
        value = params.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise GrantError(f"The token response's {name} is not a string.")
        if len(value) > TOKEN_MAX:
            raise GrantError(
                f"The token response's {name} is {len(value):,} characters long, past the "
                f"{TOKEN_MAX:,} a gateway takes."
            )
        if not _visible(value):
            raise GrantError(
                f"The token response's {name} holds characters a request cannot carry."
            )
    kind = params.get("token_type")
    if kind not in (None, "") and not (isinstance(kind, str) and _TOKEN_TYPE.match(kind.strip())):
        raise GrantError("The token response's token_type is not a token type name.")
    expires = params.get("expires_in")
    number = isinstance(expires, int | float) and not isinstance(expires, bool)
    text = isinstance(expires, str) and re.fullmatch(r"-?[0-9]{1,18}", expires.strip())
    if expires not in (None, "") and not (number or text):
        raise GrantError("The token response's expires_in is not a number of seconds.")
    scope = params.get("scope")
    listed = isinstance(scope, list) and all(isinstance(s, str) for s in scope)
    if scope is not None and not (isinstance(scope, str) or listed):
        raise GrantError("The token response's scope is not a space-separated list.")


def check_token_response(response: requests.Response) -> requests.Response:
    """requests-oauthlib's compliance hook: the raw answer, before oauthlib parses it."""
    kind = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if 300 <= response.status_code < 400:
        # Never followed (a login page, another host); read as a token response it was
        # "the server refused: missing_token".
        raise GrantError(
            f"The token endpoint answered {response.status_code}, a redirect, which is not "
            "followed: check the token URL."
        )
    try:
        params = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        if kind in ("application/x-www-form-urlencoded", "text/plain", ""):
            return response  # an old server's form-encoded answer: oauthlib reads it
        raise GrantError(
            f"The token endpoint answered {response.status_code} with {kind}, not a JSON "
            "token response."
        ) from None
    if not isinstance(params, dict):
        # RFC 6749 5.1 and 5.2: an object. oauthlib reads `null` or a number with `in`
        # (TypeError, a 500), and a string or list as one holding its names.
        raise GrantError(
            f"The token endpoint answered {response.status_code} with JSON that is not a JSON "
            "object, so no token response."
        )
    check_token_fields(params)
    return response


_TRANSPORT_HEADERS = frozenset(
    {"content-length", "connection", "accept-encoding", "user-agent", "transfer-encoding"}
)


class Session(OAuth2Session):
    """requests-oauthlib with the network part replaced by the outbound wrapper."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.trust_env = False  # no proxies or .netrc from the environment
        for hook in ("access_token_response", "refresh_token_response"):
            self.register_compliance_hook(hook, check_token_response)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raw = request.body
        body = raw.encode() if isinstance(raw, str) else raw if isinstance(raw, bytes) else b""
        # The wrapper sets its own User-Agent and framing; requests' defaults are dropped.
        headers = {
            k: v if isinstance(v, str) else v.decode("latin-1")
            for k, v in request.headers.items()
            if k.lower() not in _TRANSPORT_HEADERS
        }
        result = http.fetch(str(request.method), str(request.url), headers=headers, body=body)
        response = requests.Response()
        response.status_code = result.status
        response.headers = CaseInsensitiveDict(dict(result.headers))
        response._content = result.body
        response.url = str(request.url)
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers) or "utf-8"
        return response
