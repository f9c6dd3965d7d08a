"""Redoc's `x-tagGroups`: the reference's navigation and API page list tags under the
document's groups (Mattermost has 40 tags in groups); a spec without it renders as before."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from apis import navigation
from apis.models import Api
from tests.conftest import DEMO_SPECS, ImportSpec

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).with_name("golden_petstore_nav.json")


def _between(html: str, start: str, end: str) -> str:
    return start + html.split(start, 1)[1].split(end, 1)[0]


def _reference_parts(client: Client) -> dict[str, str]:
    """What x-tagGroups would change: the navigation of the API page, of an operation page and
    of the filter, and the API page's operations."""
    page = client.get("/apis/petstore/").content.decode()
    op = client.get("/apis/petstore/operations/showPetById/").content.decode()
    return {
        "api_nav": _between(page, '<nav class="nav-scroll"', "</nav>"),
        "api_operations": _between(page, '<section id="operations">', "\n  </section>"),
        "operation_nav": _between(op, '<nav class="nav-scroll"', "</nav>"),
        "filtered_nav": client.get("/apis/petstore/nav/", {"q": "pet"}).content.decode(),
        "group_links": client.get("/apis/petstore/nav/", {"g": "0"}).content.decode(),
    }


def test_a_spec_without_tag_groups_renders_as_before(client: Client, petstore: Api) -> None:
    """Byte for byte the markup the reference had before it read x-tagGroups (the golden file
    was written by that code)."""
    assert _reference_parts(client) == json.loads(GOLDEN.read_text())


def _op(tag: str | None, op_id: str, path: str) -> str:
    tags = f"      tags: [{tag}]\n" if tag else ""
    return (
        f"  {path}:\n    get:\n{tags}      operationId: {op_id}\n      summary: {op_id}\n"
        "      responses: {'200': {description: ok}}\n"
    )


GROUPED = (
    "openapi: 3.1.0\ninfo: {title: Groups, version: '1'}\n"
    "tags: [{name: users}, {name: teams}, {name: posts}, {name: files}, {name: loose}]\n"
    "x-tagGroups:\n"
    "  - {name: 'People & <Teams>', tags: [teams, users, nosuch]}\n"
    "  - {name: Content, tags: [posts, users]}\n"  # users is in the first group already
    "  - {name: Empty, tags: [nosuch]}\n"
    "  - junk\n"
    "  - {name: {not: text}, tags: [files]}\n"
    "  - {name: No tags}\n"
    "paths:\n"
    + _op("users", "listUsers", "/users")
    + _op("teams", "listTeams", "/teams")
    + _op("posts", "listPosts", "/posts")
    + _op("files", "listFiles", "/files")
    + _op("loose", "listLoose", "/loose")
    + _op(None, "ping", "/ping")
    + "webhooks:\n  postCreated:\n    post:\n      tags: [posts]\n"
    "      responses: {'200': {description: ok}}\n"
)


def _sections(html: str) -> list[str]:
    return re.findall(r'<section class="(?:tag-set|tag-group)" id="([^"]+)"', html)


def test_the_api_page_lists_tags_under_their_groups_in_the_documents_order(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    """As Redoc: each group's tags in the group's order, a tag in two groups in the first, a
    group of no known tag left out. Tags in no group are not lost (Redoc hides them): they
    follow, under "Other", with the untagged operations."""
    import_spec(write_spec("grouped.yaml", GROUPED), "grouped")
    html = client.get("/apis/grouped/").content.decode()
    assert _sections(html) == [
        "group-people----teams-", "tag-teams", "tag-users",
        "group-content", "tag-posts", "tag-webhooks-posts",
        "group-other", "tag-files", "tag-loose", "tag-other-operations",
    ]  # fmt: skip
    assert (
        '<section class="tag-set" id="group-people----teams-"><h3><a class="anchor" '
        'href="#group-people----teams-">People &amp; &lt;Teams&gt;</a></h3>'
    ) in html
    # The tags' headings are a level below their group's.
    assert '<h4><a class="anchor" href="#tag-teams">teams</a></h4>' in html
    assert '<h3><a class="anchor" href="#tag-teams">' not in html
    assert "Empty" not in html and "No tags" not in html
    assert len(re.findall(r'<a href="\./operations/', html)) == 7  # nothing lost
    nav = _between(html, '<ul class="nav-tree"', "</nav>")
    assert re.findall(r'<span class="nav-section-name" id="nav-s-\d+">([^<]*)</span>', nav) == [
        "People &amp; &lt;Teams&gt;",
        "Content",
        "Other",
    ]
    assert (
        '<li class="nav-section"><span class="nav-section-name" id="nav-s-0">People &amp; '
        '&lt;Teams&gt;</span><ul class="nav-section-tags" aria-labelledby="nav-s-0">'
        '<li class="nav-group"><a class="nav-toc" href="/apis/grouped/#tag-teams">teams'
    ) in nav
    assert re.findall(r'#(tag-[^"]+)">', nav) == _sections(html)[1:3] + _sections(html)[4:6] + [
        "tag-files",
        "tag-loose",
        "tag-other-operations",
    ]


def test_an_operation_page_lists_its_groups_and_opens_its_own_tag(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    import_spec(write_spec("grouped.yaml", GROUPED), "grouped")
    html = client.get("/apis/grouped/operations/listPosts/").content.decode()
    nav = _between(html, '<ul class="nav-tree"', "</nav>")
    # Each group folds as its tags do, open at first.
    names = re.findall(
        r'<details open><summary class="nav-section-name" id="nav-s-\d+">([^<]*)<', nav
    )
    assert names == ["People &amp; &lt;Teams&gt;", "Content", "Other"]
    content = _between(nav, 'id="nav-s-1">Content</summary>', "</ul></details></li><li")
    assert '<details open><summary>posts <span class="count">1</span>' in content
    assert 'aria-current="page"' in content
    # Each folded tag fetches its own links: the index is the tag's place in this order.
    folded = dict(re.findall(r'<details data-g="(\d+)"><summary>([^<]*) <', nav))
    assert folded == {"0": "teams", "1": "users", "3": "Webhooks › posts", "4": "files",
                      "5": "loose", "6": "Other operations"}  # fmt: skip
    links = client.get("/apis/grouped/nav/", {"g": "4"}).content.decode()
    assert "/apis/grouped/operations/listFiles/" in links and "listLoose" not in links


def test_the_filter_keeps_the_groups_of_what_it_found(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    import_spec(write_spec("grouped.yaml", GROUPED), "grouped")
    html = client.get("/apis/grouped/nav/", {"q": "list"}).content.decode()
    names = re.findall(r'<summary class="nav-section-name" id="nav-s-\d+">([^<]*)<', html)
    assert names == ["People &amp; &lt;Teams&gt;", "Content", "Other"]
    teams = client.get("/apis/grouped/nav/", {"q": "teams"}).content.decode()
    assert "People &amp; &lt;Teams&gt;" in teams and "Content" not in teams


@pytest.mark.parametrize(
    "junk",
    [
        "x-tagGroups: not a list\n",
        "x-tagGroups: {name: G, tags: [pets]}\n",
        "x-tagGroups: null\n",
        "x-tagGroups: [1, [pets], {tags: [pets]}, {name: '', tags: [pets]}, {name: G, tags: [x]}]\n",
    ],
)
def test_tag_groups_that_group_nothing_change_nothing(
    client: Client, import_spec: ImportSpec, write_spec: Any, junk: str
) -> None:
    spec = (DEMO_SPECS / "petstore.yaml").read_text()
    import_spec(write_spec("petstore.yaml", junk + spec), "petstore")
    assert _reference_parts(client) == json.loads(GOLDEN.read_text())


def test_versions_imported_before_get_their_groups_from_a_migration(
    client: Client, import_spec: ImportSpec, write_spec: Any
) -> None:
    api = import_spec(write_spec("grouped.yaml", GROUPED), "grouped")
    version = api.default_version
    version.overview = {k: v for k, v in version.overview.items() if k != "tagGroups"}
    version.save(update_fields=["overview"])
    navigation.clear_cache()
    assert _sections(client.get("/apis/grouped/").content.decode())[0] == "tag-users"
    migration = importlib.import_module("apis.migrations.0011_tag_groups")
    migration.fill_tag_groups(apps, None)
    navigation.clear_cache()
    html = client.get("/apis/grouped/").content.decode()
    assert _sections(html)[0] == "group-people----teams-"


def test_an_operation_page_of_many_groups_names_the_group_of_the_first_tag_it_lists(
    client: Client, import_spec: ImportSpec, tmp_path: Path
) -> None:
    """An operation page lists the hundred tags around its own: the first of them may be in
    the middle of a group, whose name heads them all the same."""
    tags = [f"t{g}-{t}" for g in range(50) for t in range(10)]
    paths = {f"/{t}": {"get": {"operationId": t, "tags": [t], "responses": {}}} for t in tags}
    groups = [{"name": f"G{g}", "tags": [f"t{g}-{t}" for t in range(10)]} for g in range(50)]
    spec = tmp_path / "many.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "M", "version": "1"},
                                "x-tagGroups": groups, "paths": paths}))  # fmt: skip
    import_spec(spec, "many")
    html = client.get("/apis/many/operations/t25-3/").content.decode()
    nav = _between(html, '<ul class="nav-tree"', "</nav>")
    names = re.findall(r'<summary class="nav-section-name" id="nav-s-(\d+)">G(\d+)<', nav)
    assert [int(g) for g, _ in names] == list(range(20, 31))  # tags 203 to 302 of 500
    assert all(g == n for g, n in names)
    assert nav.index('id="nav-s-20">G20</summary>') < nav.index('<details data-g="203">')
    assert nav.count('<li class="nav-section">') == nav.count('<ul class="nav-section-tags"') == 11
    assert nav.count("<ul") == nav.count("</ul>") and nav.count("<li") == nav.count("</li>")
    assert "203 more groups</a>" in nav and "197 more groups</a>" in nav
    assert nav.count("<details data-g=") + nav.count("<details open><summary>") == 100
