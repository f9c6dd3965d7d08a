"""Credentials for any API: pasted bearer tokens, basic, API keys in header, query or cookie;
which token the panel preselects; optional parameters; an API the console cannot call."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from apis.models import Api
from console.credentials import KEYS_SESSION_KEY
from console.models import CallHistory
from console.tokens import Token, TokenStore
from tests.console.conftest import GATEWAY, access_token

HTMX = {"HX-Request": "true"}
KEYED = """\
openapi: 3.0.3
info: {title: Keyed, version: '1'}
paths:
  /things:
    get:
      operationId: listThings
      security:
        - headerKey: []
          queryKey: []
          cookieKey: []
      parameters:
        - {name: limit, in: query, schema: {type: integer}, example: 10}
      responses: {'200': {description: ok}}
  /bearer:
    get:
      operationId: withBearer
      security: [{pasted: []}]
      responses: {'200': {description: ok}}
  /basic:
    get:
      operationId: withBasic
      security: [{basicAuth: []}]
      responses: {'200': {description: ok}}
  /session:
    get:
      operationId: sessionCookie
      security: [{portalCookie: []}]
      responses: {'200': {description: ok}}
components:
  securitySchemes:
    headerKey: {type: apiKey, in: header, name: X-API-Key}
    queryKey: {type: apiKey, in: query, name: api_key}
    cookieKey: {type: apiKey, in: cookie, name: key}
    pasted: {type: http, scheme: bearer}
    basicAuth: {type: http, scheme: basic}
    portalCookie: {type: apiKey, in: cookie, name: sessionid}
"""
HEADER_KEY = "hdr-secret-0123456789abcdef"
QUERY_KEY = "qry-secret-0123456789abcdef"
COOKIE_KEY = "cke-secret-0123456789abcdef"


@pytest.fixture
def keyed(db: None, tmp_path: Path) -> Api:
    spec = tmp_path / "keyed.yaml"
    spec.write_text(KEYED)
    call_command("importspec", str(spec), slug="keyed", publish=True, stdout=io.StringIO())
    api = Api.objects.get(slug="keyed")
    from gateway.models import Route

    Route.objects.create(api=api, suffix="keyed", backend="echo")
    return api


def ref(operation: str, **extra: str) -> dict[str, str]:
    return {"api": "keyed", "version": "1", "operation": operation, **extra}


def keep(client: Client, operation: str, scheme: str, htmx: bool = True, **parts: str) -> Any:
    data = ref(operation, credential=scheme)
    data.update({f"credential.{scheme}.{k}": v for k, v in parts.items()})
    return client.post("/console/credential/", data, headers=HTMX if htmx else {})


def test_api_keys_go_where_each_scheme_says_and_nowhere_else(
    signed_in: Client, keyed: Api, fake_outbound: Any
) -> None:
    page = signed_in.get("/apis/keyed/operations/listThings/").content.decode()
    assert "API key in the header <code>X-API-Key</code>" in page
    assert "API key in the query <code>api_key</code>" in page
    assert "API key in the cookie <code>key</code>" in page

    kept = keep(signed_in, "listThings", "headerKey", value=HEADER_KEY)
    assert kept.status_code == 200
    html = kept.content.decode()
    assert html.lstrip().startswith('<fieldset id="console-auth"')
    assert "Kept your credential for headerKey" in html
    assert "•••• cdef" in html and HEADER_KEY not in html  # masked, never echoed in full
    keep(signed_in, "listThings", "queryKey", value=QUERY_KEY)
    keep(signed_in, "listThings", "cookieKey", value=COOKIE_KEY)

    fake_outbound.json("GET", f"{GATEWAY}/keyed/things", {"ok": True})
    answer = signed_in.post(
        "/console/send/", ref("listThings", server=f"{GATEWAY}/keyed"), headers=HTMX
    )
    assert answer.status_code == 200
    sent = fake_outbound.sent[-1]
    assert sent.header("X-API-Key") == HEADER_KEY
    assert f"api_key={QUERY_KEY}" in sent.url
    assert sent.header("Cookie") == f"key={COOKIE_KEY}"
    assert sent.header("Authorization") == ""
    shown = answer.content.decode()
    for secret in (HEADER_KEY, QUERY_KEY, COOKIE_KEY):
        assert secret not in shown  # not in the sent URL, not in the snippets
    # The snippets read the keys from the environment: `$API_KEY`, never %24API_KEY.
    assert "-H &quot;X-API-Key: $API_KEY&quot;" in shown
    assert "things?api_key=$API_KEY&quot;" in shown
    assert "-H &quot;Cookie: key=$API_KEY&quot;" in shown and "%24API_KEY" not in shown
    entry = CallHistory.objects.get()
    assert QUERY_KEY not in entry.url and QUERY_KEY not in str(entry.form)


def test_forgetting_a_key_stops_sending_it(
    signed_in: Client, keyed: Api, fake_outbound: Any
) -> None:
    keep(signed_in, "listThings", "headerKey", value=HEADER_KEY)
    gone = signed_in.post(
        "/console/credential/", ref("listThings", forget_credential="headerKey"), headers=HTMX
    )
    assert "Forgot your credential for headerKey" in gone.content.decode()
    fake_outbound.json("GET", f"{GATEWAY}/keyed/things", {"ok": True})
    signed_in.post("/console/send/", ref("listThings"), headers=HTMX)
    assert fake_outbound.sent[-1].header("X-API-Key") == ""


def test_pasted_bearer_token_is_sent_and_never_shown(
    signed_in: Client, keyed: Api, fake_outbound: Any
) -> None:
    pasted = access_token(aud="api://keyed", sub="someone")
    kept = keep(signed_in, "withBearer", "pasted", value=f"Bearer {pasted}")
    html = kept.content.decode()
    assert kept.status_code == 200 and pasted not in html
    assert 'data-claim="aud">api://keyed<' in html  # decoded like any token
    token_id = re.search(r'name="token" value="([^"]+)" checked', html)
    assert token_id, "the pasted token is the one chosen"
    fake_outbound.json("GET", f"{GATEWAY}/keyed/bearer", {"ok": True})
    answer = signed_in.post(
        "/console/send/", ref("withBearer", token=token_id.group(1)), headers=HTMX
    )
    assert fake_outbound.sent[-1].header("Authorization") == f"Bearer {pasted}"
    assert pasted not in answer.content.decode()
    # Even the reveal button keeps a pasted token out of the page.
    entry = CallHistory.objects.get()
    revealed = signed_in.post(
        f"/console/history/{entry.uuid}/snippets/", {"token": token_id.group(1)}, headers=HTMX
    )
    assert pasted not in revealed.content.decode()


def test_basic_credentials_are_sent_as_basic(
    signed_in: Client, keyed: Api, fake_outbound: Any
) -> None:
    kept = keep(signed_in, "withBasic", "basicAuth", username="ada", password="pw:with colon")
    html = kept.content.decode()
    assert "pw:with colon" not in html
    token_id = re.search(r'name="token" value="([^"]+)" checked', html)
    assert token_id
    fake_outbound.json("GET", f"{GATEWAY}/keyed/basic", {"ok": True})
    answer = signed_in.post(
        "/console/send/", ref("withBasic", token=token_id.group(1)), headers=HTMX
    )
    expected = base64.b64encode(b"ada:pw:with colon").decode()
    assert fake_outbound.sent[-1].header("Authorization") == f"Basic {expected}"
    # The snippets ask for a user name and password, and hold neither.
    shown = answer.content.decode()
    assert "-u &quot;$API_USER:$API_PASSWORD&quot;" in shown
    assert expected not in shown and "pw:with colon" not in shown
    assert "Basic $ACCESS_TOKEN" not in shown


def test_a_scheme_naming_the_portals_session_cookie_is_refused(
    signed_in: Client, keyed: Api
) -> None:
    refused = keep(signed_in, "sessionCookie", "portalCookie", value="x" * 20)
    assert refused.status_code == 422
    assert "this portal&#x27;s own cookie" in refused.content.decode()
    assert not signed_in.session.get(KEYS_SESSION_KEY)


def test_credential_errors_are_inline_and_plain_posts_redirect(
    signed_in: Client, keyed: Api
) -> None:
    empty = keep(signed_in, "listThings", "headerKey", value="")
    assert empty.status_code == 422
    assert "Paste the API key first." in empty.content.decode()
    plain = keep(signed_in, "listThings", "headerKey", htmx=False, value=HEADER_KEY)
    assert plain.status_code == 302
    assert plain["Location"] == "/apis/keyed/operations/listThings/#console"
    page = signed_in.get(plain["Location"]).content.decode()
    assert "•••• cdef" in page and HEADER_KEY not in page


def test_credentials_need_sign_in_and_a_scheme_of_the_operation(
    client: Client, signed_in: Client, keyed: Api
) -> None:
    anonymous = Client().post("/console/credential/", ref("listThings", credential="headerKey"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert signed_in.get("/console/credential/").status_code == 405
    other = keep(signed_in, "withBearer", "headerKey", value=HEADER_KEY)
    assert other.status_code == 404


def put_token(client: Client, **claims: Any) -> str:
    session = client.session
    token = TokenStore(session).put(
        Token(server="idp", server_name="Example IdP", grant="client_credentials",
              scopes=str(claims.get("scope", "echo.read")), access_token=access_token(**claims))
    )  # fmt: skip
    session.save()
    return token.id


def test_token_for_another_apis_audience_is_not_preselected(
    signed_in: Client, echo: Api, auth_server: Any
) -> None:
    auth_server(echo, grants=["client_credentials"])
    put_token(signed_in, aud="api://petstore", scope="petstore.read")
    html = signed_in.get("/apis/echo/operations/echoGet/").content.decode()
    assert 'data-claim="aud">api://petstore<' in html  # offered, the user may pick it
    assert 'name="token" value="" checked' in html  # but "No token" is the default
    fitting = put_token(signed_in, aud="api://echo", scope="echo.write")
    html = signed_in.get("/apis/echo/operations/echoGet/").content.decode()
    assert f'name="token" value="{fitting}" checked' in html


def test_a_credential_is_preselected_only_where_the_operation_asks_for_its_scheme(
    signed_in: Client, keyed: Api
) -> None:
    # The last credential kept was preselected on every operation of the API: the basic
    # password went out on a bearer-only call, a bearer token beside an API key.
    keep(signed_in, "withBearer", "pasted", value=access_token(aud="api://keyed"))
    keep(signed_in, "withBasic", "basicAuth", username="ada", password="secret")
    server_token = put_token(signed_in, aud="api://keyed")

    def chosen(operation: str) -> str:
        html = signed_in.get(f"/apis/keyed/operations/{operation}/").content.decode()
        found = re.search(r'name="token" value="([^"]*)" checked>\s*(?:<strong>)?([^<]*)', html)
        assert found
        return found[2].strip() if found[1] else "No token"

    assert "Pasted token" in chosen("withBearer")
    assert "Basic · ada" in chosen("withBasic")
    assert chosen("listThings") == "No token"  # API keys only: no Authorization header
    assert chosen("sessionCookie") == "No token"
    # Each card says which scheme it is for; the scheme is not shown as the token's scope.
    html = signed_in.get("/apis/keyed/operations/withBasic/").content.decode()
    assert 'data-claim="scope">basicAuth<' not in html and 'data-claim="scope">pasted<' not in html
    assert "for <code>basicAuth</code>" in html and "for <code>pasted</code>" in html
    assert "A user name and password, sent as HTTP basic" in html
    assert server_token  # offered everywhere, preselected nowhere here: no operation is OAuth


def test_optional_parameters_start_empty_with_the_example_as_placeholder(
    signed_in: Client, echo: Api, fake_outbound: Any
) -> None:
    html = signed_in.get("/apis/echo/operations/echoGet/").content.decode()
    assert 'name="param.query.message" value="" placeholder="hello"' in html
    assert 'name="param.path.id"' not in html
    item = signed_in.get("/apis/echo/operations/echoPut/").content.decode()
    assert 'name="param.path.id" value="item-42" required' in item  # required: filled
    # Sending the form as shown sends no optional parameter.
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"ok": True})
    form = dict(re.findall(r'name="(param\.[^"]+)" value="([^"]*)"', html))
    signed_in.post(
        "/console/send/",
        {"api": "echo", "version": "1.0.0", "operation": "echoGet", **form},
        headers=HTMX,
    )
    assert "?" not in fake_outbound.sent[-1].url


def test_api_with_nowhere_to_call_says_so_and_tells_staff_what_to_set(
    client: Client, user: Any, echo: Api
) -> None:
    echo.gateway_route.delete()
    client.force_login(user)
    html = client.get("/apis/echo/operations/echoGet/").content.decode()
    assert "The console cannot call this API yet" in html
    assert "CONSOLE_ALLOWED_ORIGINS" not in html  # the publisher's hint is for staff
    user.is_staff = True
    user.save()
    html = client.get("/apis/echo/operations/echoGet/").content.decode()
    assert "CONSOLE_ALLOWED_ORIGINS" in html and "/admin/gateway/route/add/" in html


def _jwt_with_payload(payload: bytes) -> str:
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part(b'{' + b'"alg":"RS256"}')}.{part(payload)}.c2ln"


@pytest.mark.parametrize(
    "payload",
    [
        b'{"sub":' + b'{"a":' * 300 + b"1" + b"}" * 300 + b"}",  # past orjson's 254 levels
        b'{"sub":' + b"[" * 1500 + b"]" * 1500 + b"}",  # deeper than pprint-style printers go
        b'{"sub": "x", "exp": 1' + b"0" * 400 + b"}",  # past orjson's 64-bit integers
    ],
    ids=["300-deep", "1500-deep", "huge-int"],
)
def test_a_pasted_token_with_deeply_nested_or_huge_claims_breaks_no_page(
    signed_in: Client, keyed: Api, payload: bytes
) -> None:
    # The claims are decoded to show them: 300 (or 1,500) levels or a 400-digit number made
    # the "All claims" box raise in orjson, on every console page after.
    token = _jwt_with_payload(payload)
    kept = keep(signed_in, "withBearer", "pasted", value=token)
    assert kept.status_code == 200
    assert signed_in.get("/apis/keyed/operations/withBearer/").status_code == 200


def test_no_credential_is_kept_for_a_webhook_under_the_apis_security(
    signed_in: Client, tmp_path: Path
) -> None:
    # The document's `security` is how the API's callers sign in; the API calls a webhook,
    # so no credential of the API is taken (or sent) for one.
    spec = tmp_path / "hooks.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: Hooks, version: '1'}\n"
        "security: [{headerKey: []}]\n"
        "paths:\n  /things:\n    get:\n      operationId: listThings\n"
        "      responses: {'200': {description: ok}}\n"
        "webhooks:\n  thingCreated:\n    post:\n      operationId: thingCreated\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  securitySchemes:\n"
        "    headerKey: {type: apiKey, in: header, name: X-API-Key}\n"
    )
    call_command("importspec", str(spec), slug="hooks", publish=True, stdout=io.StringIO())
    data = {"api": "hooks", "version": "1", "credential": "headerKey"}
    value = {"credential.headerKey.value": HEADER_KEY}
    kept = signed_in.post(
        "/console/credential/", {**data, **value, "operation": "listThings"}, headers=HTMX
    )
    assert kept.status_code == 200
    hook = signed_in.post(
        "/console/credential/", {**data, **value, "operation": "thingCreated"}, headers=HTMX
    )
    assert hook.status_code == 404


def test_keeping_a_credential_without_htmx_says_so_where_the_page_opens(
    signed_in: Client, keyed: Api
) -> None:
    """Without htmx the page reloads at #console; "Kept your credential ..." was in the
    page's message list at the top, out of view. The Authorization block says it now, once."""
    kept = keep(signed_in, "listThings", "headerKey", htmx=False, value=HEADER_KEY)
    assert kept.status_code == 302 and kept["Location"].endswith("#console")
    page = signed_in.get(kept["Location"].split("#")[0]).content.decode()
    start = page.index('id="console-auth"')
    assert "Kept your credential for headerKey" in page[start : page.index("</fieldset>", start)]
    assert page.count("Kept your credential for headerKey") == 1
