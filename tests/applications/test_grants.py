"""A developer's application gets tokens only for the APIs it holds through subscriptions
(SECURITY.md cases 73, 78, 79), at the built-in provider's real token endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from identity.models import RevokedToken
from identity.revocation import checksum
from products import flows as product_flows
from tests.applications.conftest import basic
from tests.conftest import DEMO_SPECS


@pytest.fixture
def apis(import_spec: Any) -> dict[str, Any]:
    return {
        "echo": import_spec(DEMO_SPECS / "echo.yaml", "echo"),
        "petstore": import_spec(DEMO_SPECS / "petstore.yaml", "petstore"),
    }


def _token(
    client: Client, registered: Any, grant_type: str = "client_credentials", **params: str
) -> Any:
    """The token endpoint's answer to the registered application (its client secret)."""
    return client.post(
        "/idp/token/", {"grant_type": grant_type, **params},
        HTTP_AUTHORIZATION=basic(registered.application.client_id, registered.secret),
    )  # fmt: skip


def test_no_subscription_no_api_token(
    client: Client, ada: Any, register: Callable[..., Any], apis: dict[str, Any]
) -> None:
    registered = register(ada, "machine")
    refused = _token(client, registered, scope="echo.write")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    target = _token(client, registered, resource="api://echo")
    assert target.status_code == 400 and target.json()["error"] == "invalid_target"


def test_case79_subscription_grants_its_apis_only_and_cancelling_stops_new_tokens(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
) -> None:
    registered = register(ada, "machine")
    app = registered.application
    starter = make_product("starter", apis["echo"])
    sub = product_flows.subscribe(ada, starter, application=app)
    assert sub.state == sub.ACTIVE

    granted = _token(client, registered, scope="echo.write")
    assert granted.status_code == 200, granted.content
    assert granted.json()["scope"] == "echo.write"
    # Petstore is in no product this application subscribed to.
    other = _token(client, registered, scope="petstore.read")
    assert other.status_code == 400 and other.json()["error"] == "invalid_scope"

    product_flows.cancel_by_owner(sub, ada)
    stopped = _token(client, registered, scope="echo.write")
    assert stopped.status_code == 400 and stopped.json()["error"] == "invalid_scope"


def test_a_deactivated_developers_application_gets_no_api_token(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
) -> None:
    """Client credentials need no signed-in user: the application of a developer an
    administrator deactivated still got tokens for its subscriptions' APIs."""
    registered = register(ada, "machine")
    app = registered.application
    product_flows.subscribe(ada, make_product("starter", apis["echo"]), application=app)
    issued = _token(client, registered, scope="echo.read")
    assert issued.status_code == 200
    ada.is_active = False
    ada.save()
    stopped = _token(client, registered, scope="echo.read")
    assert stopped.status_code == 401 and stopped.json()["error"] == "invalid_client"
    # The token issued before is revoked too: it kept passing gateways until it expired.
    revoked = RevokedToken.objects.filter(token_checksum=checksum(issued.json()["access_token"]))
    assert revoked.exists()


def test_a_deactivated_developers_applications_are_no_clients_until_reactivated(
    client: Client, ada: Any, bob: Any, register: Callable[..., Any]
) -> None:
    """Their tokens are revoked as they are deactivated, but the applications went on getting
    new ones: client credentials with the portal scope or none, and their web app still
    signed other people in, their name and e-mail address with it. A blocked developer's
    clients are refused as unknown ones are, and work again once they are reactivated."""
    from urllib.parse import urlencode

    machine = register(ada, "machine")
    web = register(ada, "web", redirect_uris=[WEB_REDIRECT]).application
    ada.is_active = False
    ada.save()
    for scope in ("portal", "openid", ""):
        params = {"scope": scope} if scope else {}
        refused = _token(client, machine, **params)
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert (
        client.post("/idp/login/", {"username": "bob", "password": "pw-bob-1"}).status_code == 302
    )
    query = urlencode({"response_type": "code", "client_id": web.client_id, "scope": "openid email",
                       "redirect_uri": WEB_REDIRECT, "state": "st", "code_challenge_method": "S256",
                       "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"})  # fmt: skip
    page = client.get(f"/idp/authorize/?{query}")
    assert page.status_code == 400 and not page.has_header("Location")  # the provider's page
    ada.is_active = True
    ada.save()
    assert _token(client, machine).status_code == 200
    assert client.get(f"/idp/authorize/?{query}").status_code == 200  # the consent page


def test_a_subscription_for_the_developer_grants_no_application(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
) -> None:
    registered = register(ada, "machine")
    product_flows.subscribe(ada, make_product("starter", apis["echo"]))  # for ada herself
    refused = _token(client, registered, scope="echo.read")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"


def test_a_read_only_product_grants_only_its_scope_subset(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
) -> None:
    """Issue 10: a product grants, per API, all its scopes or a subset (a read-only Starter);
    tokens carry only those."""
    registered = register(ada, "machine")
    app = registered.application
    starter = make_product("starter", apis["echo"], api_scopes={"echo": ["echo.read"]})
    product_flows.subscribe(ada, starter, application=app)
    read = _token(client, registered, scope="echo.read")
    assert read.status_code == 200 and read.json()["scope"] == "echo.read"
    write = _token(client, registered, scope="echo.read echo.write")
    assert write.status_code == 400 and write.json()["error"] == "invalid_scope"
    assert "echo.write" in write.json()["error_description"]
    # A second product with every scope of the API widens the grant again.
    full = make_product("full", apis["echo"])
    product_flows.subscribe(ada, full, application=app)
    both = _token(client, registered, scope="echo.read echo.write")
    assert both.status_code == 200 and both.json()["scope"] == "echo.read echo.write"


WEB_REDIRECT = "https://app.example/callback"


def _sign_in(client: Client) -> None:
    signed_in = client.post("/idp/login/", {"username": "ada", "password": "pw-ada-1"})
    assert signed_in.status_code == 302


def _redeem(client: Client, registered: Any, code: str, verifier: str) -> Any:
    """The token request of the authorization code `_code` gave."""
    return _token(
        client, registered, "authorization_code", code=code, redirect_uri=WEB_REDIRECT,
        code_verifier=verifier,
    )  # fmt: skip


def _code(client: Client, client_id: str, scope: str) -> tuple[str, str]:
    """(code, PKCE verifier) of an authorization the signed-in user allows on the consent page."""
    import base64
    import hashlib
    import secrets
    from urllib.parse import parse_qs, urlencode, urlsplit

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({"response_type": "code", "client_id": client_id, "scope": scope,
                       "redirect_uri": WEB_REDIRECT, "state": "st", "code_challenge_method": "S256",
                       "code_challenge": challenge.rstrip(b"=").decode()})  # fmt: skip
    page = client.get(f"/idp/authorize/?{query}")
    assert page.status_code == 200, page.content
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    answer = client.post(f"/idp/authorize/?{query}", {**fields, "allow": "Authorize"})
    assert answer.status_code == 302 and answer["Location"].startswith(WEB_REDIRECT)
    (code,) = parse_qs(urlsplit(answer["Location"]).query)["code"]
    return code, verifier


@pytest.mark.parametrize("change", ["cancel", "unpublish"])
def test_a_code_issued_before_the_subscription_ended_gets_no_token(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
    change: str,
) -> None:
    """'Suspending or cancelling a subscription stops new tokens at once' (issue 10) holds for
    the code exchange too: the authorization was checked when the code was made, and the
    code, still unused, was exchanged for a token carrying the scope after the cancellation."""
    registered = register(ada, "web", redirect_uris=[WEB_REDIRECT])
    app = registered.application
    sub = product_flows.subscribe(ada, make_product("starter", apis["echo"]), application=app)
    _sign_in(client)
    code, verifier = _code(client, app.client_id, "openid echo.read")
    if change == "cancel":
        product_flows.cancel_by_owner(sub, ada)
    else:
        apis["echo"].is_published = False
        apis["echo"].save()
    answer = _redeem(client, registered, code, verifier)
    assert answer.status_code == 400, answer.content
    assert "access_token" not in answer.json()
    assert answer.json()["error"] == "invalid_scope"


def test_a_code_still_gets_its_token_while_the_subscription_lasts(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
) -> None:
    registered = register(ada, "web", redirect_uris=[WEB_REDIRECT])
    app = registered.application
    product_flows.subscribe(ada, make_product("starter", apis["echo"]), application=app)
    _sign_in(client)
    code, verifier = _code(client, app.client_id, "openid echo.read")
    answer = _redeem(client, registered, code, verifier)
    assert answer.status_code == 200, answer.content
    assert answer.json()["scope"] == "openid echo.read"


@pytest.mark.parametrize("prompt", ["", "none"])
def test_consent_to_one_api_is_no_consent_to_another_apis_audience(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
    prompt: str,
) -> None:
    """Past consent skips the page (REQUEST_APPROVAL_PROMPT auto, prompt=none) when a live
    token already covers the scopes asked; its audience was not compared, so after ada allowed
    `openid echo.read` the application got, without asking, a token for petstore's audience
    by asking `openid` with resource=api://petstore."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    registered = register(ada, "web", redirect_uris=[WEB_REDIRECT])
    app = registered.application
    both = make_product("both", apis["echo"], apis["petstore"])
    product_flows.subscribe(ada, both, application=app)
    _sign_in(client)
    code, verifier = _code(client, app.client_id, "openid echo.read")
    first = _redeem(client, registered, code, verifier)
    assert first.status_code == 200
    query = {"response_type": "code", "client_id": app.client_id, "scope": "openid",
             "redirect_uri": WEB_REDIRECT, "state": "st", "code_challenge_method": "S256",
             "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
             "resource": "api://petstore", **({"prompt": prompt} if prompt else {})}  # fmt: skip
    answer = client.get(f"/idp/authorize/?{urlencode(query)}")
    if prompt == "none":
        assert answer.status_code == 302
        assert parse_qs(urlsplit(answer["Location"]).query)["error"] == ["consent_required"]
    else:
        assert answer.status_code == 200, answer.get("Location")  # the consent page
    # The audience consented to still needs no page.
    query["resource"] = "api://echo"
    again = client.get(f"/idp/authorize/?{urlencode(query)}")
    assert again.status_code == 302 and "code=" in again["Location"]


@pytest.mark.parametrize("resource", ["", "api://echo"])
def test_a_refused_scope_says_the_same_of_an_api_the_client_cannot_see_and_of_none(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
    make_group: Callable[..., Any],
    resource: str,
) -> None:
    """Hidden APIs are hidden in error messages too (issue 9): `petstore.read`, offered only
    to partners, was refused with 'This client may not have the scope', a scope of no API
    with 'No API here defines the scope' (and, beside another API's resource, 'is not for the
    requested resource'), so the token endpoint told any developer which hidden APIs exist."""
    make_group("partners")
    make_product("partner-deal", apis["petstore"], groups=("partners",))
    registered = register(ada, "machine")
    app = registered.application
    product_flows.subscribe(ada, make_product("starter", apis["echo"]), application=app)
    extra = {"resource": resource} if resource else {}
    hidden = _token(client, registered, scope="petstore.read", **extra)
    absent = _token(client, registered, scope="nothing.read", **extra)
    assert hidden.status_code == absent.status_code == 400
    assert hidden.json()["error"] == absent.json()["error"] == "invalid_scope"
    said = hidden.json()["error_description"].replace("petstore", "X")
    assert said == absent.json()["error_description"].replace("nothing", "X")


@pytest.mark.parametrize(("scope", "named"), [("openid echo.read", False),
                                              ("openid profile echo.read", True)])  # fmt: skip
def test_a_developers_application_learns_the_username_only_with_profile(
    client: Client,
    ada: Any,
    register: Callable[..., Any],
    apis: dict[str, Any],
    make_product: Callable[..., Any],
    scope: str,
    named: bool,
) -> None:
    """The consent page promises the username with profile ('See your name and username'):
    the access token, which the application can read, carried preferred_username whatever
    was asked, so an application allowed only to read echo learnt whose account it was."""
    import jwt

    registered = register(ada, "web", redirect_uris=[WEB_REDIRECT])
    app = registered.application
    product_flows.subscribe(ada, make_product("starter", apis["echo"]), application=app)
    _sign_in(client)
    answer = _redeem(client, registered, *_code(client, app.client_id, scope))
    assert answer.status_code == 200, answer.content
    claims = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(ada.pk)
    assert ("preferred_username" in claims) is named
    refreshed = _token(client, registered, "refresh_token",
                       refresh_token=answer.json()["refresh_token"])  # fmt: skip
    assert refreshed.status_code == 200, refreshed.content
    claims = jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})
    assert ("preferred_username" in claims) is named
