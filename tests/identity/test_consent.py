"""The consent page lists the permissions an application asks for by API name and with the
scope descriptions of the API's spec (issue 10)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from apis.models import Api
from tests.identity.conftest import PASSWORD
from tests.identity.test_prompt import authorize_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("published_apis")]


def test_consent_names_each_api_and_its_scopes_from_the_spec(
    client: Client, signed_in: Any, app: Any
) -> None:
    response = client.get(authorize_url(scope="openid echo.read echo.write petstore.read"))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    echo, pets = Api.objects.get(slug="echo"), Api.objects.get(slug="petstore")
    assert f">{echo.name}</h2>" in page and f">{pets.name}</h2>" in page
    # echo.yaml's securitySchemes describe its scopes as "Read calls" and "Write calls".
    assert "<code>echo.read</code> Read calls" in page
    assert "<code>echo.write</code> Write calls" in page
    assert "Sign you in (OpenID Connect)" in page
    # Not the pattern's generic wording keyed by slug.
    assert "the echo API" not in page


def test_spec_text_on_the_consent_page_is_escaped(client: Client, signed_in: Any, app: Any) -> None:
    api = Api.objects.get(slug="echo")
    Api.objects.filter(pk=api.pk).update(name="<img src=x onerror=alert(1)>")
    response = client.get(authorize_url(scope="openid echo.read"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<img src=x" not in body and "&lt;img src=x" in body


def test_the_consent_page_says_who_registered_the_client_and_where_the_answer_goes(
    client: Client, signed_in: Any, user_factory: Any
) -> None:
    """A developer's application is anyone's to register: its consent page said only "Allow
    <name>?", so one named like the portal's own client passed for it. It now says a
    developer registered it, and the host the answer (the code) goes to. It does not name the
    developer's account: anyone with the client id could read it (and usernames are often
    e-mail addresses' local parts); the owner is told it is theirs."""
    from applications import flows

    mallory = user_factory("mallory")
    made = flows.register(
        mallory, name="API Portal", kind="web",
        redirect_uris=["https://collector.example.net/cb"],
    )  # fmt: skip
    url = authorize_url(
        client_id=made.application.client_id,
        redirect_uri="https://collector.example.net/cb",
        scope="openid",
    )
    response = client.get(url)
    assert response.status_code == 200, response.get("Location")
    page = html.unescape(response.content.decode())
    assert "Registered by a developer on this portal, not by its administrators." in (
        " ".join(page.split())
    )
    assert "mallory" not in page
    assert "Your answer goes to <strong>collector.example.net</strong>." in page

    client.post("/idp/login/", {"username": "mallory", "password": PASSWORD})
    own = client.get(url)
    assert own.status_code == 200, own.get("Location")
    assert "Registered by you." in " ".join(html.unescape(own.content.decode()).split())


def test_an_administrators_client_says_so(client: Client, signed_in: Any, app: Any) -> None:
    page = client.get(authorize_url()).content.decode()
    assert "Registered by this portal's administrators." in page
    assert "Your answer goes to <strong>127.0.0.1</strong>." in page


def test_the_consent_page_does_not_name_an_api_the_user_may_not_see(
    client: Client, signed_in: Any, app: Any
) -> None:
    """A developer's application may hold grants for a partners-only API; whoever signs in to
    it must not learn that API's name or scopes from the consent page (issue 9: hidden APIs are
    hidden wherever a name could leak). The page still says something more is asked."""
    from products.models import Group, Product

    echo = Api.objects.get(slug="echo")
    Api.objects.filter(pk=echo.pk).update(name="Partner Ledger")
    partners = Group.objects.create(slug="partners", name="Partners")
    product = Product.objects.create(slug="partner-plan", name="Partner plan", published=True)
    product.apis.add(echo)
    product.groups.add(partners)
    response = client.get(authorize_url(scope="openid echo.read echo.write petstore.read"))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    # (The scope string itself is in the URL the client built, and in the form's hidden field.)
    assert "Partner Ledger" not in page and "<code>echo.read</code>" not in page
    assert 'data-api="echo"' not in page
    assert "An API you cannot see: 2 permissions" in page
    assert "petstore.read" in page  # the visible one is named as before


@pytest.mark.parametrize("client_id", ["no-such-client", "CONSOLE"])
def test_a_consent_form_posted_for_an_unknown_client_is_a_400_page(
    client: Client, signed_in: Any, app: Any, client_id: str
) -> None:
    """DOT's consent handler looked the form's client up with .get(): a form whose hidden
    client_id was changed to one that does not exist answered 500."""
    url = authorize_url(scope="openid echo.read")
    page = client.get(url)
    assert page.status_code == 200
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = client.post(url, {**fields, "client_id": client_id, "allow": "Authorize"})
    assert response.status_code == 400
    assert "Location" not in response


def test_a_consent_form_posted_without_its_pkce_challenge_gets_no_code(
    client: Client, signed_in: Any, app: Any
) -> None:
    """PKCE is required: an authorization request without a challenge is refused, but the
    consent form posted with its hidden challenge emptied got a code bound to no verifier
    (any code_verifier then redeemed it)."""
    url = authorize_url(scope="openid echo.read")
    page = client.get(url)
    fields = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = client.post(url, {**fields, "code_challenge": "", "allow": "Authorize"})
    assert response.status_code == 400 and "Location" not in response
    assert "Code challenge required" in response.content.decode()


def test_the_consent_page_names_an_api_asked_for_by_resource_alone(
    client: Client, signed_in: Any, app: Any
) -> None:
    """A token for an API's audience calls it even with no scope of it: `openid` with
    resource=api://petstore showed only "Sign you in"."""
    response = client.get(authorize_url(scope="openid", resource="api://petstore"))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    pets = Api.objects.get(slug="petstore")
    assert f">{pets.name}</h2>" in page
    assert f"Call {pets.name} for you" in page
