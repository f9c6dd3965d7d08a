"""The API page's operation list and the side navigation (`apis:nav`) that folds it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from apis.models import Api
from tests.conftest import DEMO_SPECS, ImportSpec

pytestmark = pytest.mark.django_db


def _links(html: str, page: str = "") -> list[str]:
    """The operation links; the API page's own are relative to it (`page`: its path)."""
    found = re.findall(r'<a href="((?:/apis/[^"]*|\.)/operations/[^"]*)"', html)
    return [page + link[2:] if link.startswith("./") else link for link in found]


def test_api_page_lists_each_operation_once_as_one_link(client: Client, petstore: Api) -> None:
    html = client.get("/apis/petstore/").content.decode()
    # Every operation reachable from the main list, and only from there: the navigation is
    # folded, so the page does not carry every link twice.
    assert sorted(_links(html, "/apis/petstore/")) == sorted(
        f"/apis/petstore/operations/{slug}/"
        for slug in ("listPets", "createPet", "showPetById", "deletePet", "placeOrder")
    )
    assert '<a href="./operations/listPets/" data-m="get">/pets<span>List pets</span></a>' in html
    assert 'data-m="delete" class="deprecated">' in html
    # The navigation is the page's table of contents: each group a link to its section on
    # this page, with how many operations it holds; nothing to unfold (a <details> a group
    # cost the browser about 11 ms of layout on Kubernetes' 64 groups, before any paint).
    nav = html.split('id="nav-tree"')[1].split("</nav>")[0]
    assert (
        '<a class="nav-toc" href="/apis/petstore/#tag-pets">pets <span class="count">4</span></a>'
        in nav
    )
    assert (
        '<a class="nav-toc" href="/apis/petstore/#tag-store">store <span class="count">1</span></a>'
        in nav
    )
    assert "<details" not in nav and "nav-more" not in nav
    assert 'id="tag-pets"' in html and 'id="tag-store"' in html
    assert "{#" not in html and "{% comment" not in html  # template comments stay comments
    # No htmx on this page: its load-time scan reads every attribute of the page.
    assert "htmx-2" not in html and "htmx.min" not in html


def test_operations_past_the_first_screen_are_listed_in_blocks_laid_out_on_demand(
    client: Client, import_spec: ImportSpec, tmp_path: Any
) -> None:
    """The browser lays out the first screen's operations at once (one layout pass before the
    first paint) and the others, in blocks of 25, only as they near the viewport; a block never
    holds operations of two groups. None is left out."""
    paths = {
        f"/{tag}/{i}": {"get": {"operationId": f"{tag}{i}", "tags": [tag], "responses": {}}}
        for tag, count in (("small", 10), ("big", 60), ("last <b>", 3))
        for i in range(count)
    }
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "B", "version": "1"},
                                "tags": [{"name": "small"}, {"name": "big"},
                                         {"name": "last <b>", "description": "*Few*"}],
                                "paths": paths}))  # fmt: skip
    import_spec(spec, "blocks")
    html = client.get("/apis/blocks/").content.decode()
    blocks = re.findall(r'<div class="op-block( later)?" data-rows="(\d+)">(.*?)</div>', html)
    sizes = [(bool(later), len(_links(links))) for later, rows, links in blocks]
    assert all(int(rows) == len(_links(links)) for _, rows, links in blocks)
    # small: operations 1-10; big: 11-35 and 36-60, both holding some of the first 40, then
    # 61-70; last: 71-73.
    assert sizes == [(False, 10), (False, 25), (False, 25), (True, 10), (True, 3)]
    assert sum(n for _, n in sizes) == len(_links(html)) == 73
    assert "content-visibility: auto;" in html and "attr(data-rows type(<number>), 25)" in html
    # Each group's section is built once per version, its name escaped, its description HTML.
    assert '<a class="anchor" href="#tag-last--b-">last &lt;b&gt;</a></h3>' in html
    assert '<div class="md" hx-disable><p><em>Few</em></p>' in html


def test_the_navigation_script_is_inline_at_the_end_and_the_filter_needs_no_script_to_show(
    client: Client, petstore: Api
) -> None:
    """No request for the navigation's script and no script in the middle of the page (either
    held up the page's first complete paint); the filter box is shown by CSS where scripts
    run, so the script changes nothing at load."""
    for url in ("/apis/petstore/", "/apis/petstore/operations/listPets/"):
        html = client.get(url).content.decode()
        assert "nav.js" not in re.sub(r"//.*", "", "".join(re.findall(r"<script[^>]*>", html)))
        body_end = html.split('<footer class="site-footer">')[1]
        assert 'scroller.addEventListener("toggle"' in body_end
        assert "filter.hidden" not in html
        assert re.search(r'<input id="nav-filter"[^>]*>', html)[0].find(" hidden") == -1  # type: ignore[index]
    css = Path(finders.find("css/portal.css")).read_text()  # type: ignore[arg-type]
    assert ".nav-filter { display: none;" in css
    assert "@media (scripting: enabled) { .nav-filter { display: block; } }" in css


def test_operation_page_opens_its_own_group(client: Client, petstore: Api) -> None:
    html = client.get("/apis/petstore/operations/placeOrder/").content.decode()
    nav = html.split('id="nav-tree"')[1].split("</nav>")[0]
    assert '<details open><summary>store <span class="count">1</span>' in nav
    assert '<a href="/apis/petstore/operations/placeOrder/" aria-current="page"' in nav
    assert '<details data-g="0"><summary>pets' in nav  # the other group stays folded
    assert "listPets" not in nav


def test_opening_a_group_fetches_its_links(client: Client, petstore: Api) -> None:
    response = client.get("/apis/petstore/nav/?g=0")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<ul class="nav-ops">')
    # The side bar cuts long names with an ellipsis: the title tells the whole route.
    listed = '<a href="/apis/petstore/operations/listPets/" data-m="get" title="GET /pets">'
    assert f"{listed}List pets</a>" in html
    assert len(_links(html)) == 4 and "placeOrder" not in html


@pytest.mark.parametrize(
    ("query", "found", "missing"),
    [
        ("place", ["placeOrder"], ["listPets"]),
        ("DELETE", ["deletePet"], ["listPets", "placeOrder"]),  # method, any case
        ("/pets/{petId}", ["showPetById", "deletePet"], ["listPets"]),  # path
        ("pets remove", ["deletePet"], ["showPetById"]),  # every word
        ("showpetbyid", ["showPetById"], ["deletePet"]),  # operationId
    ],
)
def test_filter_asks_the_server(
    client: Client, petstore: Api, query: str, found: list[str], missing: list[str]
) -> None:
    html = client.get("/apis/petstore/nav/", {"q": query}).content.decode()
    assert html.startswith('<ul class="nav-tree" id="nav-tree">')
    for slug in found:
        assert f"/operations/{slug}/" in html
    for slug in missing:
        assert f"/operations/{slug}/" not in html


def test_filter_marks_the_current_page_and_says_when_nothing_matches(
    client: Client, petstore: Api
) -> None:
    html = client.get("/apis/petstore/nav/", {"q": "order", "op": "placeOrder"}).content.decode()
    assert '<details open><summary>store <span class="count">1 of 1</span>' in html
    assert 'aria-current="page"' in html
    assert "No operation matches" in client.get("/apis/petstore/nav/?q=zebra").content.decode()
    # An empty filter gives the folded navigation back, the current group open.
    back = client.get("/apis/petstore/nav/", {"q": "", "op": "placeOrder"}).content.decode()
    assert "<details open><summary>store" in back and '<details data-g="0">' in back
    # On the API page (no current operation) it gives the table of contents back.
    toc = client.get("/apis/petstore/nav/", {"q": ""}).content.decode()
    assert '<a class="nav-toc" href="/apis/petstore/#tag-pets">' in toc and "<details" not in toc


def test_nav_links_stay_on_the_chosen_version(
    client: Client, import_spec: ImportSpec, write_spec
) -> None:  # type: ignore[no-untyped-def]
    spec = "openapi: 3.0.0\ninfo: {{title: V, version: '{v}'}}\npaths:\n  /{p}:\n    get: {{operationId: op{p}, responses: {{'200': {{description: ok}}}}}}\n"
    import_spec(write_spec("a.yaml", spec.format(v="1.0", p="old")), "versioned")
    import_spec(write_spec("b.yaml", spec.format(v="2.0", p="new")), "versioned")
    html = client.get("/apis/versioned/nav/?g=0&v=1.0").content.decode()
    assert '"/apis/versioned/operations/opold/?v=1.0"' in html and "opnew" not in html
    page = client.get("/apis/versioned/?v=1.0").content.decode()
    assert 'data-url="/apis/versioned/nav/?v=1.0"' in page
    assert 'href="/apis/versioned/?v=1.0#tag-other-operations"' in page


def test_nav_of_hidden_unknown_and_bad_queries(
    client: Client, admin_client: Client, petstore: Api, import_spec: ImportSpec
) -> None:
    import_spec(DEMO_SPECS / "petstore.yaml", "hidden", publish=False)
    assert client.get("/apis/hidden/nav/?g=0").status_code == 404
    assert admin_client.get("/apis/hidden/nav/?g=0").status_code == 200
    assert client.get("/apis/nope/nav/?g=0").status_code == 404
    assert client.get("/apis/petstore/nav/?g=9").status_code == 404
    assert client.get("/apis/petstore/nav/?g=x").status_code == 400
    assert client.get("/apis/petstore/nav/?g=0&v=9.9").status_code == 404
    assert client.post("/apis/petstore/nav/?g=0").status_code == 405


def test_the_api_page_inlines_only_the_stylesheet_it_uses(
    client: Client, petstore: Api, django_user_model: Any
) -> None:
    """Every style this page uses is in portal.css (the header's sign-in form and account menu
    among them); the console's and the sign-in pages' sheets, which it inlined too, only
    lengthened the style the browser parses before the first paint."""
    portal = Path(finders.find("css/portal.css")).read_text()  # type: ignore[arg-type]
    user = django_user_model.objects.create_user("reader", password="x")
    for signed_in in (False, True):
        if signed_in:
            client.force_login(user)
        html = client.get("/apis/petstore/").content.decode()
        inline = re.findall(r"<style[^>]*>(.*?)</style>", html, re.S)
        assert inline == [portal]
        assert ("account-menu" if signed_in else "signin-form") in html
    assert ".account-menu-panel { position: absolute;" in portal and ".signin-form {" in portal


def test_undeclared_tags_follow_the_declared_ones_in_the_specs_order(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # A Microsoft Graph-sized spec has thousands of tags: each group was looked up in the
    # list of those placed (quadratic: about 0.3 s of the first view of each of its pages
    # at 9,000 tags). The order is what it was.
    ops = "".join(
        f"  /{name}:\n    get:\n      tags: [{name}]\n      operationId: get_{name}\n"
        "      responses: {'200': {description: ok}}\n"
        for name in ("zeta", "alpha", "beta", "mid")
    )
    hooks = "".join(
        f"  {name}:\n    post:\n      tags: [{name}]\n      responses: {{'200': {{description: ok}}}}\n"
        for name in ("zhook", "ahook")
    )
    spec = (
        "openapi: 3.1.0\ninfo: {title: Tags, version: '1'}\ntags: [{name: mid}]\n"
        f"paths:\n{ops}webhooks:\n{hooks}"
    )
    import_spec(write_spec("tags.yaml", spec), "tags")
    html = client.get("/apis/tags/").content.decode()
    sections = re.findall(r'<section class="tag-group" id="([^"]+)"', html)
    assert sections == ["tag-mid", "tag-zeta", "tag-alpha", "tag-beta", "tag-zhook", "tag-ahook"]


def _many_groups(import_spec: ImportSpec, tmp_path: Any, tags: int, per_tag: int = 1) -> None:
    """An API of `tags` tags of `per_tag` operations each (Microsoft Graph has thousands)."""
    paths = {
        f"/t{t}/o{i}": {"get": {"operationId": f"t{t}o{i}", "tags": [f"tag{t}"], "responses": {}}}
        for t in range(tags)
        for i in range(per_tag)
    }
    spec = tmp_path / "many.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "M", "version": "1"},
                                "paths": paths}))  # fmt: skip
    import_spec(spec, "many")


def test_an_operation_page_of_thousands_of_groups_lists_those_near_its_own(
    client: Client, import_spec: ImportSpec, tmp_path: Any
) -> None:
    """At 9,000 tags every operation page carried 9,000 folded groups (2 MB, 45,000 elements,
    1.8 s before the browser had read it). It lists the groups around its own, and says how
    many more there are before and after, each a link to the API page's table of contents."""
    _many_groups(import_spec, tmp_path, 1000)
    html = client.get("/apis/many/operations/t500o0/").content.decode()
    nav = html.split('id="nav-tree"')[1].split("</nav>")[0]
    shown = [int(g) for g in re.findall(r'<details data-g="(\d+)">', nav)]
    assert '<details open><summary>tag500 <span class="count">1</span>' in nav
    assert 'aria-current="page"' in nav
    assert shown == sorted(shown) and min(shown) < 500 < max(shown)
    assert 60 <= len(shown) + 1 <= 120 and max(shown) - min(shown) == len(shown)
    before, after = min(shown), 1000 - max(shown) - 1
    assert f'href="/apis/many/#nav-tree">{before} more groups</a>' in nav
    assert f'href="/apis/many/#nav-tree">{after} more groups</a>' in nav
    # At the start there is nothing before; the API page's own navigation lists every group.
    first = client.get("/apis/many/operations/t0o0/").content.decode()
    nav = first.split('id="nav-tree"')[1].split("</nav>")[0]
    assert nav.count("more groups</a>") == 1 and "<details open><summary>tag0 <" in nav
    toc = client.get("/apis/many/").content.decode().split('id="nav-tree"')[1]
    assert toc.split("</nav>")[0].count('class="nav-toc"') == 1000


def test_a_filter_matching_thousands_of_operations_lists_the_first_and_says_so(
    client: Client, import_spec: ImportSpec, tmp_path: Any
) -> None:
    _many_groups(import_spec, tmp_path, 400, per_tag=3)
    html = client.get("/apis/many/nav/", {"q": "get"}).content.decode()
    assert 100 <= len(_links(html)) <= 500
    assert f"The first {len(_links(html))} of 1,200 operations that match" in html
    narrow = client.get("/apis/many/nav/", {"q": "t399o"}).content.decode()
    assert len(_links(narrow)) == 3 and "The first" not in narrow


def test_renaming_an_api_moves_every_link_of_its_pages(client: Client, petstore: Api) -> None:
    """Each process keeps the navigation and rendered operations it built, by version: an
    API renamed in the admin (its slug is editable) kept linking its old slug, a 404, in
    every process that had shown it, and no process can tell the others to forget."""
    client.get("/apis/petstore/")
    client.get("/apis/petstore/operations/listPets/")
    petstore.slug = "pets"
    petstore.save()
    for page in ("/apis/pets/", "/apis/pets/operations/listPets/"):
        html = client.get(page).content.decode()
        assert "/apis/petstore/" not in html, page
        assert "/apis/pets/operations/showPetById/" in html or "./operations/showPetById/" in html


def test_an_operation_page_renders_no_tag_description(
    client: Client, import_spec: ImportSpec, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the API page shows a tag's description; an operation page's navigation has none.
    OpenProject's 53 tags carry long Markdown with tables: rendering them all was ~0.25 s of
    the first view of every operation page (per process), for nothing it showed."""
    from apis import navigation

    rendered: list[str] = []
    real = navigation.render_markdown

    def spy(text: str) -> Any:
        rendered.append(text)
        return real(text)

    monkeypatch.setattr(navigation, "render_markdown", spy)
    spec = tmp_path / "tags.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "T", "version": "1"},
                                "tags": [{"name": "a", "description": "| x |\n|---|\n| *1* |"}],
                                "paths": {"/a": {"get": {"operationId": "getA", "tags": ["a"],
                                                         "responses": {}}}}}))  # fmt: skip
    import_spec(spec, "tagdesc")
    html = client.get("/apis/tagdesc/operations/getA/").content.decode()
    assert 'aria-current="page"' in html and "| x |" not in html
    assert rendered == []
    html = client.get("/apis/tagdesc/").content.decode()
    assert rendered == ["| x |\n|---|\n| *1* |"]
    assert "<td><em>1</em></td>" in html


def test_a_rich_summary_without_an_operation_id_is_escaped_once(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    # With no operationId a summary with markup is the title through its plain excerpt,
    # which was still HTML: the page said "Pets &amp; owners &lt;list&gt;".
    spec = (
        "openapi: 3.0.3\ninfo: {title: Amp, version: '1'}\npaths:\n  /pets:\n    get:\n"
        "      summary: Pets & owners <list>\n      responses: {'200': {description: ok}}\n"
    )
    import_spec(write_spec("amp.yaml", spec), "amp")
    for url in ("/apis/amp/", "/apis/amp/operations/get-pets/", "/apis/?q=owners"):
        html = client.get(url).content.decode()
        assert "Pets &amp; owners &lt;list&gt;" in html, url
        assert "&amp;amp;" not in html and "&amp;lt;" not in html, url
