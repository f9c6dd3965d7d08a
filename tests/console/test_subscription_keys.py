"""The console and subscription keys: the key is added on the server, never shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from applications import flows as app_flows
from console.models import CallHistory
from products import flows
from products.models import Group, Product
from tests.console.conftest import GATEWAY
from tests.identity.conftest import _fast_hashing  # noqa: F401  (autouse, shared)

pytestmark = pytest.mark.django_db

PAGE = "/apis/echo/operations/echoGet/"
SEND = {
    "api": "echo",
    "version": "1.0.0",
    "operation": "echoGet",
    "server": f"{GATEWAY}/echo",
    "param.query.message": "hi",
}


# Where the gateway takes a subscription key by default: (location, name).
GATEWAY_KEY_PARAMETERS = [("header", "ocp-apim-subscription-key"), ("query", "subscription-key")]


@pytest.fixture
def starter(echo: Any) -> Product:
    product = Product.objects.create(slug="starter", name="Starter", published=True)
    product.apis.set([echo])
    product.groups.set(Group.objects.filter(slug__in=["guests", "developers"]))
    return product


def test_without_a_subscription_the_console_says_where_to_subscribe(
    signed_in: Client, starter: Product
) -> None:
    html = signed_in.get(PAGE).content.decode()
    assert "This API needs a subscription key." in html
    # ... and the product's page brings them back here once subscribed (tests/products).
    assert (
        'href="/products/starter/?next=/apis/echo/operations/echoGet/%23console-subscription"'
        in html
    )


def test_a_reader_of_drafts_is_not_sent_to_subscribe_to_an_unpublished_product(
    client: Client, user: Any, starter: Product
) -> None:
    """Drafts' readers see unpublished products, but subscribing to one is refused: the
    console pointed them there."""
    from django.contrib.auth.models import Permission

    draft = Product.objects.create(slug="draft-deal", name="Draft deal", published=False)
    draft.apis.set(starter.apis.all())
    user.user_permissions.add(Permission.objects.get(codename="view_api"))
    client.force_login(user)
    html = client.get(PAGE).content.decode()
    assert 'href="/products/starter/?next=' in html and "/products/draft-deal/" not in html


def test_the_picker_shows_masked_keys_only(signed_in: Client, user: Any, starter: Product) -> None:
    first = flows.subscribe(user, starter, name="staging")
    second = flows.subscribe(user, starter, name="prod")
    html = signed_in.get(PAGE).content.decode()
    for sub in (first, second):
        key = flows.shown_key(sub, "primary")
        assert f'value="{sub.uuid}"' in html and key[-4:] in html and key not in html


def test_the_picker_names_the_application_a_key_belongs_to(
    signed_in: Client, user: Any, starter: Product
) -> None:
    """A developer's own key and their application's, both unnamed, read "Starter" twice:
    nothing told which one the console would send."""
    own = flows.subscribe(user, starter)
    job = app_flows.register(user, name="Nightly export", kind="machine", redirect_uris=[])
    jobs = flows.subscribe(user, starter, application=job.application, name="prod")
    html = signed_in.get(PAGE).content.decode()
    assert f'value="{own.uuid}" checked> Starter <code>' in html
    assert f'value="{jobs.uuid}"> Starter · prod · for Nightly export <code>' in html


def test_case70_send_adds_the_chosen_key_on_the_server_only(
    signed_in: Client, user: Any, starter: Product, fake_outbound: Any
) -> None:
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    flows.subscribe(user, starter, name="staging")
    prod = flows.subscribe(user, starter, name="prod")
    key = flows.shown_key(prod, "primary")
    page = signed_in.post("/console/send/", {**SEND, "subscription": str(prod.uuid)})
    assert page.status_code == 200
    assert fake_outbound.sent[0].header("Ocp-Apim-Subscription-Key") == key
    html = page.content.decode()
    assert key not in html
    # The snippets read the key from the environment, as the reference page's sample does:
    # with SUBSCRIPTION_KEY exported, the curl runs as pasted.
    assert "-H &quot;Ocp-Apim-Subscription-Key: $SUBSCRIPTION_KEY&quot;" in html
    assert key not in str(CallHistory.objects.get().form)


def test_another_developers_subscription_cannot_be_chosen(
    signed_in: Client, make_other: Any, starter: Product, fake_outbound: Any
) -> None:
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    theirs = flows.subscribe(make_other, starter)
    signed_in.post("/console/send/", {**SEND, "subscription": str(theirs.uuid)})
    assert fake_outbound.sent[0].header("Ocp-Apim-Subscription-Key") == ""


def test_an_api_in_no_product_gets_no_key_header(
    signed_in: Client, echo: Any, fake_outbound: Any
) -> None:
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    html = signed_in.get(PAGE).content.decode()
    assert "Subscription key" not in html
    signed_in.post("/console/send/", SEND)
    assert fake_outbound.sent[0].header("Ocp-Apim-Subscription-Key") == ""


@pytest.fixture
def make_other(db: None) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("bob", "bob@example.com", "pw-bob-12345")


def test_the_console_uses_the_apis_own_key_header(
    signed_in: Client, user: Any, starter: Product, echo: Any, fake_outbound: Any
) -> None:
    from products.models import ApiKeyNames

    ApiKeyNames.objects.create(api=echo, header="X-Api-Key")
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    key = flows.shown_key(flows.subscribe(user, starter), "primary")
    signed_in.post("/console/send/", SEND)
    assert fake_outbound.sent[0].header("X-Api-Key") == key
    assert fake_outbound.sent[0].header("Ocp-Apim-Subscription-Key") == ""


def test_case69_the_key_goes_to_the_gateway_only_never_to_an_allowlisted_server(
    signed_in: Client, user: Any, starter: Product, echo: Any, fake_outbound: Any, settings: Any
) -> None:
    """The subscription key is the gateway's credential, which the gateway strips before the
    backend (case 69). A call the developer points at the API's own allowlisted server
    skips the gateway: the key went there too, to a host that has no use for it."""
    from tests.console.test_calls import put_spec_servers

    settings.CONSOLE_ALLOWED_ORIGINS = ["https://api.example.com"]
    put_spec_servers(echo, [{"url": "https://api.example.com/v1"}])
    fake_outbound.json("GET", "https://api.example.com/v1/anything", {"method": "GET"})
    key = flows.shown_key(flows.subscribe(user, starter), "primary")
    page = signed_in.post("/console/send/", {**SEND, "server": "https://api.example.com/v1"})
    assert page.status_code == 200
    assert fake_outbound.sent[0].url.startswith("https://api.example.com/v1/anything")
    assert fake_outbound.sent[0].header("Ocp-Apim-Subscription-Key") == ""
    assert key not in str(fake_outbound.sent[0].headers)


@pytest.mark.parametrize(("where", "name"), GATEWAY_KEY_PARAMETERS)
def test_a_key_typed_in_the_gateways_key_parameter_must_be_one_of_the_developers_own(
    signed_in: Client,
    user: Any,
    starter: Product,
    echo: Any,
    fake_outbound: Any,
    where: str,
    name: str,
) -> None:
    """A spec exported from APIM declares the key's header or query parameter. The gateway
    counts unknown keys by address (20 a minute, then 429), and every console call comes
    from the portal's: one developer's wrong keys, sent, refused every console call to a
    keyed API, for everyone. A typed key that is none of the developer's is refused here."""
    from tests.console.conftest import op

    operation = op(echo, "echoGet")
    operation.data["parameters"].append({"name": name, "in": where, "schema": {"type": "string"}})
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})

    page = signed_in.post("/console/send/", {**SEND, f"param.{where}.{name}": "guessed-key"})
    assert fake_outbound.sent == []
    assert "is not a key of your subscriptions" in page.content.decode()

    own = flows.shown_key(flows.subscribe(user, starter), "primary")
    page = signed_in.post("/console/send/", {**SEND, f"param.{where}.{name}": own})
    assert page.status_code == 200 and len(fake_outbound.sent) == 1


def test_the_pickers_key_replaces_one_typed_in_the_key_header_in_another_case(
    signed_in: Client, user: Any, starter: Product, echo: Any, fake_outbound: Any
) -> None:
    """Two key header lines (the parameter's `ocp-apim-subscription-key` and the picker's
    `Ocp-Apim-Subscription-Key`) reach the gateway as one joined value, 'k1, k2': no key
    at all, counted against the portal's address like a guess. One line goes."""
    from tests.console.conftest import op

    operation = op(echo, "echoGet")
    name = "ocp-apim-subscription-key"
    operation.data["parameters"].append(
        {"name": name, "in": "header", "schema": {"type": "string"}}
    )
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    sub = flows.subscribe(user, starter)
    primary, secondary = flows.shown_key(sub, "primary"), flows.shown_key(sub, "secondary")

    signed_in.post("/console/send/", {**SEND, f"param.header.{name}": secondary})
    sent = fake_outbound.sent[0].headers
    assert [v for k, v in sent.items() if k.lower() == name] == [primary]


@pytest.mark.parametrize(
    "spelling",
    ["subscription%2Dkey", "subscription-key[]", "subscription-key%00", "subscription-key%00x"],
)
def test_a_key_typed_under_another_spelling_of_the_key_parameter_must_be_the_developers_own(
    signed_in: Client, starter: Product, echo: Any, fake_outbound: Any, spelling: str
) -> None:
    """The gateway reads the key from every spelling of its parameter a backend would decode
    to that name (gateway/querystring.py): escapes, a list's `[]`, and the name ended by a
    NUL. OpenAPI 3.2's querystring parameter, sent as written, carried
    `subscription-key%00=guess` past the console's check, and the gateway counted the guess
    against the portal's address, which every developer's console calls share."""
    from tests.console.conftest import op

    operation = op(echo, "echoGet")
    operation.data["parameters"] = [
        {"name": "q", "in": "querystring", "content": {"application/x-www-form-urlencoded": {}}}
    ]
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})

    page = signed_in.post(
        "/console/send/", {**SEND, "param.querystring.q": f"term=x&{spelling}=guessed-key"}
    )
    assert fake_outbound.sent == []
    assert "is not a key of your subscriptions" in page.content.decode()


@pytest.mark.parametrize(("where", "name"), GATEWAY_KEY_PARAMETERS)
def test_an_own_key_typed_in_the_key_parameter_is_sent_but_kept_nowhere(
    signed_in: Client,
    user: Any,
    starter: Product,
    echo: Any,
    fake_outbound: Any,
    where: str,
    name: str,
) -> None:
    """SECURITY.md case 70: a key is in no page, URL or console history. The developer's own
    key typed in the key parameter an APIM export declares went to the gateway, as it should,
    but also into the result page, its snippets, and the history row and page (the query's in
    the listed URL), where the picker's key reads $SUBSCRIPTION_KEY."""
    from tests.console.conftest import op

    operation = op(echo, "echoGet")
    operation.data["parameters"].append({"name": name, "in": where, "schema": {"type": "string"}})
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    own = flows.shown_key(flows.subscribe(user, starter), "secondary")

    page = signed_in.post("/console/send/", {**SEND, f"param.{where}.{name}": own})
    assert page.status_code == 200 and len(fake_outbound.sent) == 1
    assert own not in page.content.decode()
    assert "$SUBSCRIPTION_KEY" in page.content.decode()
    entry = CallHistory.objects.get()
    assert own not in entry.url and own not in str(entry.form)
    assert own not in signed_in.get("/console/history/").content.decode()
    assert own not in signed_in.get(f"/console/history/{entry.uuid}/").content.decode()


@pytest.mark.parametrize(("where", "name"), GATEWAY_KEY_PARAMETERS)
def test_a_loaded_call_whose_key_was_typed_leaves_the_key_parameter_to_the_picker(
    signed_in: Client,
    user: Any,
    starter: Product,
    echo: Any,
    fake_outbound: Any,
    where: str,
    name: str,
) -> None:
    """The history keeps a typed key as $SUBSCRIPTION_KEY (case 70); loading the call put
    that placeholder back in the key parameter, and sending it was refused as 'not a key of
    your subscriptions'. The field loads empty: the picker's key goes instead."""
    import re

    from tests.console.conftest import op

    operation = op(echo, "echoGet")
    operation.data["parameters"].append({"name": name, "in": where, "schema": {"type": "string"}})
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    sub = flows.subscribe(user, starter)
    own = flows.shown_key(sub, "secondary")
    signed_in.post("/console/send/", {**SEND, f"param.{where}.{name}": own})
    entry = CallHistory.objects.get()

    assert signed_in.get(f"/console/history/{entry.uuid}/").status_code == 302
    page = signed_in.get(PAGE).content.decode()
    field = re.search(rf'<input [^>]*name="param\.{where}\.{name}"[^>]*>', page)
    assert field is not None and 'value=""' in field[0], field
    value = re.search(r'value="([^"]*)"', field[0])
    assert value is not None
    again = {**SEND, f"param.{where}.{name}": value[1], "subscription": str(sub.uuid)}
    answer = signed_in.post("/console/send/", again)
    assert answer.status_code == 200, answer.content.decode()[:300]
    assert len(fake_outbound.sent) == 2


def test_the_call_shown_lists_the_key_header_once_when_the_picker_replaces_a_typed_key(
    signed_in: Client, user: Any, starter: Product, echo: Any, fake_outbound: Any
) -> None:
    """A key typed in the key header (the spec's `ocp-apim-subscription-key`) is replaced by
    the picker's (`Ocp-Apim-Subscription-Key`) and one line is sent; the call shown and its
    snippets listed both lines, as if two keys went."""
    from tests.console.conftest import op

    operation = op(echo, "echoGet")
    name = "ocp-apim-subscription-key"
    operation.data["parameters"].append(
        {"name": name, "in": "header", "schema": {"type": "string"}}
    )
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    sub = flows.subscribe(user, starter)
    typed = flows.shown_key(sub, "secondary")

    page = signed_in.post(
        "/console/send/", {**SEND, f"param.header.{name}": typed, "subscription": str(sub.uuid)}
    )
    assert page.status_code == 200
    html = page.content.decode().lower()
    assert html.count("-h &quot;ocp-apim-subscription-key: $subscription_key&quot;") == 1


def test_a_loaded_call_whose_key_was_typed_in_its_querystring_leaves_the_key_out(
    signed_in: Client, user: Any, starter: Product, echo: Any, fake_outbound: Any
) -> None:
    """An OpenAPI 3.2 `in: querystring` parameter is the whole query: a key typed in it as
    `subscription-key=...` is kept as $SUBSCRIPTION_KEY (case 70), and loading the call put
    that placeholder back into the query, which was refused as 'not a key of your
    subscriptions'. The query loads without the key: the picker's key goes instead."""
    import re
    from html import unescape

    from tests.console.conftest import op

    operation = op(echo, "echoGet")
    form = {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
    operation.data["parameters"] = [{"name": "q", "in": "querystring", "content": form}]
    operation.save()
    fake_outbound.json("GET", f"{GATEWAY}/echo/anything", {"method": "GET"})
    sub = flows.subscribe(user, starter)
    own = flows.shown_key(sub, "secondary")
    send = {k: v for k, v in SEND.items() if k != "param.query.message"}
    typed = f"term=cats&subscription-key={own}&limit=5"
    first = signed_in.post("/console/send/", {**send, "param.querystring.q": typed})
    assert first.status_code == 200, first.content.decode()[:300]
    entry = CallHistory.objects.get()
    assert own not in str(entry.form)

    assert signed_in.get(f"/console/history/{entry.uuid}/").status_code == 302
    page = signed_in.get(PAGE).content.decode()
    field = re.search(r'<input [^>]*name="param\.querystring\.q"[^>]*>', page)
    assert field is not None
    value = re.search(r'value="([^"]*)"', field[0])
    assert value is not None and unescape(value[1]) == "term=cats&limit=5"
    again = {**send, "param.querystring.q": unescape(value[1]), "subscription": str(sub.uuid)}
    answer = signed_in.post("/console/send/", again)
    assert answer.status_code == 200, answer.content.decode()[:300]
    assert len(fake_outbound.sent) == 2
    assert "subscription-key" not in fake_outbound.sent[1].url


def test_coming_back_from_subscribing_the_console_says_so_where_it_opens(
    signed_in: Client, starter: Product
) -> None:
    """Subscribing from the console's hint came back to the console (#console), far below
    the page's messages: "You are subscribed to Starter." was out of view. It comes back to
    the key picker, which says it (once: not also at the top of the page)."""
    import re
    from html import unescape

    html = signed_in.get(PAGE).content.decode()
    link = re.search(r'<a href="(/products/starter/\?next=[^"]+)"', html)
    assert link is not None
    product = signed_in.get(unescape(link[1])).content.decode()
    back = re.search(r'<input type="hidden" name="next" value="([^"]+)">', product)
    assert back is not None
    done = signed_in.post("/products/starter/subscribe/", {"next": unescape(back[1])}, follow=True)
    ((where, _),) = done.redirect_chain
    assert where == f"{PAGE}#console-subscription"
    page = done.content.decode()
    start = page.index('id="console-subscription"')
    picker = page[start : page.index("</fieldset>", start)]
    assert "You are subscribed to Starter" in picker
    assert page.count("You are subscribed to Starter") == 1
