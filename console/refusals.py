"""What the console says when a grant fails: one exception, and the sentences it carries.

The messages are shown to the developer as they are, so they hold no secret: the server's own
OAuth error and description, or what could not be reached.
"""

from __future__ import annotations

from oauthlib.oauth2 import OAuth2Error

from console import http, offered
from console.models import AuthorizationServer


class GrantError(Exception):
    """A grant failed; the message is safe to show to the user (no secrets in it).

    `return_to` is the page the flow started from, when known, to offer a way back.
    """

    return_to = ""
    error = ""  # the server's OAuth error code, when it answered with one

    @classmethod
    def described(
        cls, exc: Exception, endpoint: str, server: AuthorizationServer | None = None
    ) -> GrantError:
        made = cls(describe(exc, endpoint, server))
        if isinstance(exc, OAuth2Error):
            made.error = str(exc.error or "")
        return made

    @property
    def dead_refresh_token(self) -> bool:
        """RFC 6749 5.2: invalid_grant on a refresh means the refresh token is no good (revoked,
        expired, reused): asking again gets the same answer."""
        return self.error == "invalid_grant"


def describe(exc: Exception, endpoint: str, server: AuthorizationServer | None = None) -> str:
    if isinstance(exc, OAuth2Error):
        return refusal(exc.error or "invalid_request", exc.description or "", server)
    if isinstance(exc, http.OutboundError):
        return f"Could not reach {endpoint}: {exc}"
    return f"The token endpoint's answer was not understood ({type(exc).__name__})."


def refusal(error: str, description: str, server: AuthorizationServer | None = None) -> str:
    text = f"{error}: {description.strip()}" if description.strip() else error
    if error == "access_denied":  # the developer's own answer on the consent page, not a fault
        return (
            "No token: the authorization server denied access. You chose Deny, or the sign-in "
            f"there was cancelled. Get a token again and choose Allow. ({text})"
        )
    refused = f"The authorization server refused: {text}"
    refused += "" if refused.endswith((".", "!", "?")) else "."
    if error == "invalid_scope" and server is not None and offered.scopes_per_developer(server):
        # The provider names no reason (it would tell hidden APIs apart); the console can.
        # The same words for a misspelt scope and an ungranted one: say both.
        refused += (
            " This client's tokens carry only the scopes an API defines (the operation's page "
            "lists them under Authorization) and your subscriptions grant: check the spelling, "
            "or subscribe to a product that offers this API, then get a token again."
        )
    return refused
