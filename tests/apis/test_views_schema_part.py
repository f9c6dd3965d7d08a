"""Parts of schemas cut from a page by the row budget, loaded on their own (`?at=`)."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from django.test import Client

from apis.models import Api
from tests.conftest import DEMO_SPECS, ImportSpec

NESTED = {"type": "object", "properties": {f"n{i}": {"type": "string"} for i in range(20)}}
WIDE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Payments", "version": "1"},
    "paths": {
        "/payments": {
            "post": {
                "operationId": "createPayment",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["p1", "p72"],
                                "properties": {f"p{i}": NESTED for i in range(73)},
                            }
                        }
                    }
                },
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def _names(html: str) -> list[str]:
    return re.findall(r'<code class="prop-name">([^<]*)</code>', html)


def test_wide_body_keeps_every_property_and_links_the_cut_levels(
    client: Client, import_spec: ImportSpec, write_spec: Callable[[str, str], Path]
) -> None:
    """A real 3.1 payments body lost 25 of 73 top-level properties (2 required) to the budget."""
    import_spec(write_spec("wide.json", orjson.dumps(WIDE).decode()), "payments")
    page = client.get("/apis/payments/operations/createPayment/").content.decode()
    names = _names(page)
    assert all(f"p{i}" in names for i in range(73))
    assert page.count('<span class="badge badge-required">required</span>') == 2
    # The last property's nested fields were cut: a link says so, at the place of the cut.
    hrefs = re.findall(r'<a href="([^"]*)" hx-get="[^"]*"[^>]*>Show the nested fields', page)
    last = htmllib.unescape(hrefs[-1])
    assert last == (
        "/apis/payments/operations/createPayment/schema/"
        "?at=/requestBody/content/application~1json/schema/properties/p72"
    )
    # Without scripts the link is a page; with htmx it is the fragment swapped in place.
    part = client.get(last)
    assert part.status_code == 200
    assert set(_names(part.content.decode())) == {f"n{i}" for i in range(20)}
    fragment = client.get(last, headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<div class="lazy-loaded">')
    assert "n19" in fragment


def test_schema_part_by_pointer(client: Client, petstore: Api) -> None:
    html = client.get("/apis/petstore/schemas/Pet/?at=/allOf/1/properties/owner").content.decode()
    assert {"name", "pets"} <= set(_names(html))


def test_unknown_parts_are_404(client: Client, petstore: Api, import_spec: ImportSpec) -> None:
    base = "/apis/petstore/operations/createPet/schema/"
    assert client.get(base).status_code == 404
    assert client.get(base + "?at=/nope").status_code == 404
    assert client.get(base + "?at=requestBody").status_code == 404
    assert client.get("/apis/petstore/operations/nope/schema/?at=/requestBody").status_code == 404
    assert client.get("/apis/petstore/schemas/Pet/?at=/nope").status_code == 404
    assert client.post(base + "?at=/requestBody").status_code == 405
    import_spec(DEMO_SPECS / "petstore.yaml", "hidden", publish=False)
    ok = "?at=/requestBody/content/application~1json/schema"
    assert client.get(base + ok).status_code == 200
    assert client.get(f"/apis/hidden/operations/createPet/schema/{ok}").status_code == 404


def test_budget_goes_to_the_request_body_first(
    client: Client, import_spec: ImportSpec, write_spec: Callable[[str, str], Path]
) -> None:
    """The page shows the request body before the responses: it gets the rows first."""
    wide = WIDE["paths"]["/payments"]["post"]["requestBody"]["content"]["application/json"]
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Order", "version": "1"},
        "paths": {
            "/accounts": {
                "post": {
                    "operationId": "createAccount",
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "owner": {
                                            "type": "object",
                                            "properties": {"given_name": {"type": "string"}},
                                        }
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": wide}}
                    },
                }
            }
        },
    }
    import_spec(write_spec("order.json", orjson.dumps(spec).decode()), "order")
    page = client.get("/apis/order/operations/createAccount/").content.decode()
    request = page[page.index('id="request-body"') : page.index('id="responses"')]
    assert '<code class="prop-name">given_name</code>' in request
    assert "Show the nested fields" not in request
