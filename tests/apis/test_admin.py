"""The catalog admin: upload to import, publish, default version, delete, warnings."""

from __future__ import annotations

import io
import stat
import zipfile
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import strip_tags

from apis.models import Api, ApiVersion
from tests.apis.conftest import found_by
from tests.portal.loopback import Route, loopback_server

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/apis/api/import/"


@pytest.fixture
def admin_user() -> User:
    """A superuser without a hashed password (hashing is slow and not under test here)."""
    user = User(username="boss", is_staff=True, is_superuser=True)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def spec(version: str = "1.0", title: str = "Admin API") -> bytes:
    return (
        f"openapi: 3.0.3\ninfo: {{title: {title}, version: '{version}'}}\npaths:\n"
        "  /things/{id}:\n    get: {operationId: getThing, summary: Get a thing,"
        " responses: {'200': {description: ok}}}\n"
    ).encode()


def upload(client: Client, data: bytes, name: str = "api.yaml", **fields: Any) -> Any:
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, data), **fields})


def test_import_page_needs_staff(client: Client) -> None:
    response = client.get(IMPORT_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(User.objects.create(username="plain"))
    assert client.get(IMPORT_URL).status_code == 302


def test_upload_imports_and_shows_the_warnings(admin_client: Client) -> None:
    page = admin_client.get("/admin/apis/api/")
    assert IMPORT_URL in page.content.decode()
    assert admin_client.get(IMPORT_URL).status_code == 200

    response = upload(admin_client, spec(), publish="on")
    version = ApiVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/apis/apiversion/{version.pk}/change/"
    api = Api.objects.get(slug="admin-api")
    assert api.is_published and api.default_version == version and api.operation_count == 1

    detail = admin_client.get(response["Location"]).content.decode()
    assert "Imported &#x27;Admin API&#x27; version 1.0 as admin-api: 1 operation" in detail
    assert "with 1 warning (listed below)" in detail
    assert "path parameter {id} is not declared" in detail


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("bad.yaml", b"openapi: 3.0.3\ninfo: [unclosed\n", 400, "bad.yaml:3:1: not valid YAML"),
        ("bad.json", b'{"openapi": 1,}', 400, "bad.json:1:14: not valid JSON"),
        ("x.yaml", b"hello: world\n", 400, "not an OpenAPI document"),
        ("deep.json", b"[" * 10_000 + b"]" * 10_000, 400, "nested too deeply"),
        (
            "evil.yaml",
            b"openapi: 3.0.3\nx: !!python/object/apply:os.system [id]\n",
            400,
            "YAML tag",
        ),
        (
            "bomb.yaml",
            b"openapi: 3.0.3\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
            b"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n",
            400,
            "aliases expand past the limit",
        ),
        (
            "ref.yaml",
            spec() + b"components: {schemas: {A: {$ref: 'file:///etc/passwd'}}}\n",
            400,
            "points at a URL",
        ),
    ],
)
def test_bad_upload_shows_the_error_and_stores_nothing(
    admin_client: Client, name: str, data: bytes, status: int, message: str
) -> None:
    response = upload(admin_client, data, name)
    assert response.status_code == status
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Api.objects.exists() and not ApiVersion.objects.exists()


def test_case_35_upload_over_the_limit_is_413(admin_client: Client, settings: Any) -> None:
    settings.APIS_MAX_SPEC_BYTES = 50_000
    big = spec() + b"x-pad: '" + b"a" * 100_000 + b"'\n"
    response = upload(admin_client, big)
    assert response.status_code == 413
    assert "over the limit of 50,000 bytes" in response.content.decode()
    assert not ApiVersion.objects.exists()


def test_same_label_needs_replace(admin_client: Client) -> None:
    upload(admin_client, spec())
    response = upload(admin_client, spec())
    assert response.status_code == 400
    page = response.content.decode().replace("&#x27;", "'")
    assert "already has a version" in page
    # The admin speaks of its own form: the tick box, not the command's flag.
    assert "--replace" not in page
    assert "tick “Replace”" in page
    # The error sits beside Replace, at the form's foot: the top of the page says there is one.
    assert '<p class="errornote">Not imported: see the error below.</p>' in page
    assert '<label for="id_replace" class="vCheckboxLabel">Replace</label>' in page
    assert upload(admin_client, spec(), replace="on").status_code == 302
    assert ApiVersion.objects.count() == 1


def test_zip_upload_with_root(admin_client: Client) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("a.yaml", spec(title="Zipped"))
        zf.writestr("b.yaml", spec(title="Other"))
    response = upload(admin_client, buffer.getvalue(), "api.zip")
    assert response.status_code == 400
    page = response.content.decode()
    assert "several files look like root documents" in page
    assert "--root" not in page and "Write its path in the Root field." in page
    response = upload(admin_client, buffer.getvalue(), "api.zip", root="a.yaml", slug="zz")
    assert response.status_code == 302
    version = ApiVersion.objects.get(api__slug="zz")
    assert (version.title, version.source_format, version.root_path) == (
        "Zipped",
        "bundle",
        "a.yaml",
    )


def test_zip_upload_holding_a_symbolic_link_is_refused_naming_it(admin_client: Client) -> None:
    """A link's stored bytes are its target path: read as the file, `/etc/passwd` became a
    schema of the published page. The link is never followed nor read; the upload is refused."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(
            "api/openapi.yaml",
            spec().replace(
                b"responses: {'200': {description: ok}}",
                b"responses: {'200': "
                b"{description: ok, content: {application/json: {schema: {$ref: 'thing.yaml'}}}}}",
            ),
        )
        link = zipfile.ZipInfo("api/thing.yaml")
        link.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    response = upload(admin_client, buffer.getvalue(), "api.zip")
    assert response.status_code == 400
    page = response.content.decode().replace("&#x27;", "'")
    assert "the zip holds a symbolic link, 'api/thing.yaml'" in page
    assert not Api.objects.exists() and not ApiVersion.objects.exists()


def test_case_53_upload_without_csrf_token_is_refused(admin_user: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = upload(client, spec())
    assert response.status_code == 403
    assert not ApiVersion.objects.exists()


def test_publish_unpublish_default_and_delete(admin_client: Client) -> None:
    upload(admin_client, spec("1.0"))
    upload(admin_client, spec("2.0").replace(b"/things/{id}", b"/other"))
    api = Api.objects.get()
    v1, v2 = ApiVersion.objects.get(label="1.0"), ApiVersion.objects.get(label="2.0")
    assert api.default_version == v2 and not api.is_published

    changelist = "/admin/apis/api/"
    done = admin_client.post(
        changelist, {"action": "publish", "_selected_action": [api.pk]}, follow=True
    )
    assert "Published 1 API." in done.content.decode()
    api.refresh_from_db()
    assert api.is_published
    done = admin_client.post(
        changelist, {"action": "unpublish", "_selected_action": [api.pk]}, follow=True
    )
    assert "Unpublished 1 API." in done.content.decode()
    api.refresh_from_db()
    assert not api.is_published

    versions = "/admin/apis/apiversion/"
    admin_client.post(versions, {"action": "make_default", "_selected_action": [v1.pk]})
    api.refresh_from_db()
    assert api.default_version == v1 and found_by(api, "/things/{id}")

    response = admin_client.post(
        versions,
        {"action": "make_default", "_selected_action": [v1.pk, v2.pk]},
        follow=True,
    )
    assert "at most one version per API" in response.content.decode()

    admin_client.post(
        versions, {"action": "delete_selected", "_selected_action": [v1.pk], "post": "yes"}
    )
    api.refresh_from_db()
    assert list(api.versions.all()) == [v2]
    assert api.default_version == v2 and found_by(api, "/other")


def test_changing_the_default_in_the_api_form_refreshes_the_catalog(admin_client: Client) -> None:
    upload(admin_client, spec("1.0"))
    upload(admin_client, spec("2.0").replace(b"/things/{id}", b"/other"))
    api = Api.objects.get()
    v1 = ApiVersion.objects.get(label="1.0")
    page = admin_client.get(f"/admin/apis/api/{api.pk}/change/")
    assert page.status_code == 200
    response = admin_client.post(
        f"/admin/apis/api/{api.pk}/change/",
        {
            "name": api.name,
            "slug": api.slug,
            "default_version": v1.pk,
            "versions-TOTAL_FORMS": "2",
            "versions-INITIAL_FORMS": "2",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": v1.pk,
            "versions-0-api": api.pk,
            "versions-1-id": ApiVersion.objects.get(label="2.0").pk,
            "versions-1-api": api.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    api.refresh_from_db()
    assert api.default_version == v1
    assert found_by(api, "/things/{id}") and not found_by(api, "/other")


def test_the_version_pages_do_not_read_the_documents(admin_client: Client) -> None:
    # The versions list read every version's original and normalised documents (megabytes
    # for Stripe or OpenAI) and grouped by them to count operations: 4 to 10 s a page with
    # those two imported.
    upload(admin_client, spec("1.0"))
    version = ApiVersion.objects.get()
    for url in ("/admin/apis/apiversion/", f"/admin/apis/apiversion/{version.pk}/change/"):
        with CaptureQueriesContext(connection) as queries:
            page = admin_client.get(url)
        assert page.status_code == 200 and "Admin API" in page.content.decode()
        read = [q["sql"] for q in queries if '"original"' in q["sql"] or '"normalised"' in q["sql"]]
        assert read == [], url
    assert (
        '<td class="field-ops">1</td>'
        in admin_client.get("/admin/apis/apiversion/").content.decode()
    )


def test_the_versions_list_counts_webhooks_apart_from_operations(admin_client: Client) -> None:
    # One call a developer can make and two webhooks the API sends: "3 operations" sent
    # readers looking for two calls that do not exist.
    data = spec("1.0") + (
        b"webhooks:\n"
        b"  newThing:\n    post: {operationId: newThing, responses: {'200': {description: ok}}}\n"
        b"  oldThing:\n    post: {operationId: oldThing, responses: {'200': {description: ok}}}\n"
    )
    assert upload(admin_client, data.replace(b"3.0.3", b"3.1.0")).status_code == 302
    page = admin_client.get("/admin/apis/apiversion/").content.decode()
    assert '<td class="field-ops">1</td>' in page
    assert '<td class="field-hooks">2</td>' in page


def test_an_import_says_when_no_gateway_route_serves_the_api(admin_client: Client) -> None:
    """An imported API has no gateway route: a product offering it could not be called from
    the console, and nothing at import said so or where to add one."""
    from gateway.models import Route

    response = upload(admin_client, spec(), publish="on")
    page = admin_client.get(response["Location"]).content.decode()
    api = Api.objects.get(slug="admin-api")
    assert "No gateway route serves Admin API yet" in page
    assert f"/admin/gateway/route/add/?api={api.pk}" in page
    Route.objects.create(api=api, suffix="admin-api")
    response = upload(admin_client, spec("2.0"), publish="on")
    assert "No gateway route" not in admin_client.get(response["Location"]).content.decode()


def test_a_large_upload_needs_no_writable_temporary_folder(
    admin_client: Client, settings: Any, tmp_path: Any
) -> None:
    """A spec over Django's 2.5 MB in-memory threshold was spooled to a temporary file: with
    the temporary folder read-only, missing or full (a container without its /tmp tmpfs),
    the import was a 500. The upload is bounded by APIS_MAX_SPEC_BYTES and parsed in memory
    anyway, so it is held in memory."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "not-there")
    padding = "".join(f"  x-pad-{i}: {'p' * 90}\n" for i in range(30_000))  # about 3 MB
    data = spec(title="Large API") + f"x-padding:\n{padding}".encode()
    assert len(data) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    response = upload(admin_client, data, publish="on")
    assert response.status_code in (200, 302), response.content[:500]
    assert Api.objects.filter(slug="large-api").exists()


def test_an_import_links_the_api_page_and_says_when_it_is_a_draft(admin_client: Client) -> None:
    """After an upload the admin landed on the version's admin page with no way to the API's
    own page, and an import without Publish did not say the API was a draft nobody but staff
    could see (developers got a 404 for it)."""
    response = upload(admin_client, spec())
    page = admin_client.get(response["Location"]).content.decode()
    api = Api.objects.get(slug="admin-api")
    assert not api.is_published
    assert '<a href="/apis/admin-api/">Open its page</a>' in page
    assert "It is a draft: only staff see it until it is published" in page
    assert f'<a href="/admin/apis/api/{api.pk}/change/">its admin page</a>' in page
    response = upload(admin_client, spec("2.0"), publish="on")
    page = admin_client.get(response["Location"]).content.decode()
    assert '<a href="/apis/admin-api/">Open its page</a>' in page
    assert "draft" not in page


def test_the_import_form_names_its_help_and_explains_publish(admin_client: Client) -> None:
    """Each field's aria-describedby names a help text that is on the page (the help had no
    id), and the Publish box says what leaving it off does."""
    page = admin_client.get(IMPORT_URL).content.decode()
    for name in ("file", "slug", "root", "publish", "replace"):
        assert f'aria-describedby="id_{name}_helptext"' in page
        assert f'id="id_{name}_helptext"' in page
    assert "a draft that only staff see" in page
    assert '<ol class="breadcrumbs">' in page


def test_a_draft_api_page_links_its_admin_page(admin_client: Client) -> None:
    """The draft banner said 'Publish it in the admin' with no link to where."""
    upload(admin_client, spec())
    api = Api.objects.get(slug="admin-api")
    page = admin_client.get("/apis/admin-api/").content.decode()
    assert "only staff see it" in page
    assert f'href="/admin/apis/api/{api.pk}/change/"' in page


def test_admin_pages_spell_api_url_id_and_cors_as_written_elsewhere(admin_client: Client) -> None:
    # Django capitalises a field's name: 'Api versions', 'Available apis', 'Upstream url',
    # 'Openid config', 'Cors allowed origins', 'Failed validation httpcode', 'Client id'
    # were what an administrator met on the pages that import, sell and route an API.
    expected = {
        "/admin/": ["API versions"],
        "/admin/apis/apiversion/": ["Select API version to change"],
        # The filter widget writes 'Available ' and 'Chosen ' before the field's name.
        "/admin/products/product/add/": ['data-field-name="APIs"', "API scopes"],
        "/admin/gateway/route/add/": [
            "Upstream URL",
            "CORS allowed origins",
            "OpenID configuration",
            "Failed validation HTTP code",
            "Require RFC 9068 claims",
        ],
        "/admin/console/authorizationserver/add/": [
            "Discovery URL",
            "Token URL",
            "Client ID",
        ],
    }
    wrong = [
        "Api versions", "Api version", 'data-field-name="apis"', "Api scopes", "Upstream url",
        "Cors allowed", "Openid config", "validation httpcode", "Require rfc9068", "Discovery url",
        "Token url", "Client id:",
    ]  # fmt: skip
    for url, words in expected.items():
        page = admin_client.get(url).content.decode()
        for word in words:
            assert word in page, (url, word)
        for word in wrong:
            assert word not in page, (url, word)


def test_an_api_is_imported_from_a_url_with_the_files_beside_it(
    admin_client: Client, settings: Any
) -> None:
    # The admin took only an upload: a publisher whose description lives at a URL (a
    # multi-file one above all) had to download each file and zip them, or use a shell.
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    root = (
        "openapi: 3.0.3\ninfo: {title: Remote Shop, version: '2'}\n"
        "paths:\n  /items: {$ref: 'paths/items.yaml'}\n"
    )
    items = "get: {operationId: listItems, responses: {'200': {description: ok}}}\n"
    routes = {
        "/v2/openapi.yaml": Route(body=root.encode()),
        "/v2/paths/items.yaml": Route(body=items.encode()),
    }
    with loopback_server(routes) as server:
        response = admin_client.post(
            IMPORT_URL, {"url": server.url("/v2/openapi.yaml"), "publish": "on"}, follow=True
        )
    assert response.redirect_chain, response.content.decode()
    page = response.content.decode()
    assert "Imported &#x27;Remote Shop&#x27; version 2 as remote-shop: 1 operation" in page
    version = ApiVersion.objects.get(api__slug="remote-shop")
    assert version.api.is_published and version.source_name == "openapi.yaml"
    assert version.operations.get().operation_id == "listItems"


def test_a_url_import_that_fails_says_why_under_the_url(
    admin_client: Client, settings: Any
) -> None:
    settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS = ["127.0.0.1"]
    page = b"<!DOCTYPE html><html><body>docs</body></html>"
    routes = {"/docs": Route(body=page, headers={"Content-Type": "text/html"})}
    with loopback_server(routes) as server:
        html = admin_client.post(IMPORT_URL, {"url": server.url("/docs")})
        missing = admin_client.post(IMPORT_URL, {"url": server.url("/gone.yaml")})
    assert html.status_code == 400
    assert "the URL returned an HTML page, not an OpenAPI document" in html.content.decode()
    assert missing.status_code == 400
    assert "Not imported: " + server.url("/gone.yaml") in missing.content.decode()
    assert not Api.objects.exists()


def test_the_import_form_wants_a_file_or_a_url(admin_client: Client) -> None:
    neither = admin_client.post(IMPORT_URL, {})
    assert neither.status_code == 400
    assert "Choose a file or give a URL." in neither.content.decode()
    both = admin_client.post(
        IMPORT_URL,
        {"file": SimpleUploadedFile("api.yaml", spec()), "url": "https://example.com/a.yaml"},
    )
    assert both.status_code == 400
    assert "Give a file or a URL, not both." in both.content.decode()
    assert not Api.objects.exists()


def test_a_version_page_offers_no_save_for_fields_it_cannot_change(admin_client: Client) -> None:
    # Every field of a version is read-only (a new version is a new import), yet the page
    # ended with Save and 'Save and continue editing', which saved nothing.
    assert upload(admin_client, spec()).status_code == 302
    version = ApiVersion.objects.get()
    page = admin_client.get(f"/admin/apis/apiversion/{version.pk}/change/").content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert f"/admin/apis/apiversion/{version.pk}/delete/" in page


def test_an_import_says_whether_it_made_an_api_or_a_version_of_one(admin_client: Client) -> None:
    # Re-importing a changed document said only 'Imported ... as admin-api', the same words
    # as a first import: whether it became a new version (and the default) of the API or a
    # second API (its title changed, so its slug did) was for the publisher to work out.
    def message(data: bytes, **fields: Any) -> str:
        response = upload(admin_client, data, **fields)
        assert response.status_code == 302
        return " ".join(strip_tags(admin_client.get(response["Location"]).content.decode()).split())

    assert "(listed below). It is a new API. Open its page." in message(spec())
    assert (
        "(listed below). It is a new version of Admin API, now its default; the 1 other stays "
        "one click away in its version switcher. Open its page." in message(spec("2.0"))
    )
    assert "It is a new API." in message(spec("3.0", title="Admin API Next"))
    assert "the other 2 stay" in message(spec("3.0"), slug="admin-api")
    assert "It replaces that version (the others are kept)." in message(spec("3.0"), replace="on")


def test_the_admin_index_names_the_providers_tokens_after_the_provider(
    admin_client: Client,
) -> None:
    # 'Django OAuth Toolkit' (a library's name) headed the tokens the built-in provider
    # issued, apart from its clients and keys under 'Built-in OpenID provider'.
    page = admin_client.get("/admin/").content.decode()
    assert "Built-in OpenID provider: issued tokens" in page
    assert "Django OAuth Toolkit" not in page
