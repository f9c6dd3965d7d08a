"""Parts of schemas cut from a page by the row budget, loaded on their own (`?at=`)."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
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


# JSON Schema 2020-12 (OpenAPI 3.1) generics: `$dynamicRef: '#…'` is the schema the
# outermost `$dynamicAnchor` of that name on the way down binds. Scalar Galaxy's
# `PaginatedResource<T>` is bound by the response's `$defs`; a tree of labelled nodes by the
# schema that extends the tree. FILLER spends the page's row budget (SchemaRenderer.budget,
# 500 rows) before the generic part, so that part is cut and loaded on its own.
FILLER = {"type": "object", "properties": {f"f{i}": {"type": "string"} for i in range(510)}}


def generics(filler: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Galaxy", "version": "1"},
        "paths": {
            "/planets": {
                "get": {
                    "operationId": "listPlanets",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "$defs": {
                                            "itemType": {
                                                "$dynamicAnchor": "itemType",
                                                "$ref": "#/components/schemas/Planet",
                                            }
                                        },
                                        "type": "object",
                                        "properties": {
                                            "filler": filler,
                                            "page": {"$ref": "#/components/schemas/Page"},
                                            "wrapped": {
                                                "type": "object",
                                                "properties": {
                                                    "page": {"$ref": "#/components/schemas/Page"}
                                                },
                                            },
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/trees": {
                "get": {
                    "operationId": "getTree",
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/LabelledTree"}
                                }
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Planet": {"type": "object", "properties": {"planet_name": {"type": "string"}}},
                "Page": {
                    "$defs": {"itemType": {"$dynamicAnchor": "itemType", "not": {}}},
                    "type": "object",
                    "properties": {
                        "data": {"type": "array", "items": {"$dynamicRef": "#itemType"}}
                    },
                },
                "Tree": {
                    "$dynamicAnchor": "node",
                    "type": "object",
                    "properties": {
                        "filler": filler,
                        "children": {
                            "type": "object",
                            "properties": {
                                "nodes": {"type": "array", "items": {"$dynamicRef": "#node"}}
                            },
                        },
                    },
                },
                "LabelledTree": {
                    "$dynamicAnchor": "node",
                    "allOf": [{"$ref": "#/components/schemas/Tree"}],
                    "properties": {"node_label": {"type": "string"}},
                },
            }
        },
    }


def _lazy_link(page: str, name: str) -> tuple[str, str]:
    """(href, hx-get) of the lazy link that stands for property `name`'s nested part."""
    found = re.search(
        rf'prop-name">{name}</code>.*?<p class="lazy-schema"><a href="([^"]*)" hx-get="([^"]*)"',
        page,
        re.S,
    )
    assert found, f"no lazy link below {name}"
    return htmllib.unescape(found[1]), htmllib.unescape(found[2])


def test_a_dynamic_ref_keeps_its_binding_in_parts_loaded_later(
    client: Client, import_spec: ImportSpec, write_spec: Callable[[str, str], Path]
) -> None:
    planet_row = re.compile(r'prop-name">data</code> <span class="type">array of Planet</span>')
    # Drawn in place (with the budget unspent), `data` is a list of the response's Planet and
    # a tree's `nodes` are what the outermost `$dynamicAnchor: node` binds: labelled nodes.
    small = {"type": "object", "properties": {"f0": {"type": "string"}}}
    import_spec(write_spec("small.json", orjson.dumps(generics(small)).decode()), "small")
    inline = client.get("/apis/small/operations/listPlanets/").content.decode()
    assert 'class="lazy-schema"' not in inline
    assert len(planet_row.findall(inline)) == inline.count('prop-name">planet_name<') == 2
    inline = client.get("/apis/small/operations/getTree/").content.decode()
    nodes = inline[inline.index('prop-name">nodes</code>') :]
    assert 'prop-name">node_label</code>' in nodes
    # Past the budget the same parts are cut, and read the same when loaded.
    import_spec(write_spec("galaxy.json", orjson.dumps(generics(FILLER)).decode()), "galaxy")
    planets = client.get("/apis/galaxy/operations/listPlanets/").content.decode()
    assert 'prop-name">planet_name<' not in planets  # both `page`s were cut
    for name in ("page", "wrapped"):
        for url in _lazy_link(planets, name):
            for headers in ({}, {"HX-Request": "true"}):
                part = client.get(url, headers=headers)
                assert part.status_code == 200, url
                html = part.content.decode()
                if name == "wrapped":  # the wrapper's own level, then the page in it
                    assert 'prop-name">page</code>' in html
                assert planet_row.search(html), (name, url)
                assert 'prop-name">planet_name</code>' in html, (name, url)
    tree = client.get("/apis/galaxy/operations/getTree/").content.decode()
    assert tree.count('prop-name">node_label</code>') == 1  # the cut level holds the rest
    href, hx_get = _lazy_link(tree, "children")
    for url in (href, hx_get):
        part = client.get(url)
        assert part.status_code == 200, url
        html = part.content.decode()
        assert 'prop-name">nodes</code>' in html
        assert 'prop-name">node_label</code>' in html, url


@pytest.mark.parametrize(
    "dyn",
    [
        "#/components/schemas/Nope",
        "#/components/schemas/",
        "#/components/schemas/Page/properties/~2",
        "#/components/schemas/Page/allOf/99999999999999999999",
        "#/components/schemas/Page/allOf/-1",
        "listPlanets#/nope/99999999999999999999",
        "listPlanets#",
        "listPlanets#nope",
        "otherOp#/responses",
        "#",
        "x" * 3000,
        "%00",
    ],
)
def test_a_tampered_dyn_is_ignored_or_not_found_never_an_error(
    client: Client, import_spec: ImportSpec, write_spec: Callable[[str, str], Path], dyn: str
) -> None:
    """`dyn` comes back in a query string anyone may edit: whatever it says, the part still
    draws (unbound) or is not found, never a server error."""
    import_spec(write_spec("galaxy.json", orjson.dumps(generics(FILLER)).decode()), "galaxy")
    planets = client.get("/apis/galaxy/operations/listPlanets/").content.decode()
    urls = [*_lazy_link(planets, "page"), *_lazy_link(planets, "wrapped")]
    assert any("/schemas/" in u for u in urls) and any("/schema/?" in u for u in urls)
    for url in urls:
        tampered = re.sub(r"dyn=[^&]*", "dyn=" + quote(dyn, safe="/~#"), url)
        assert tampered != url
        assert client.get(tampered).status_code in (200, 404), (dyn, tampered)
