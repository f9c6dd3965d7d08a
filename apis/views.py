"""Catalog, API overview, operation and schema pages, and spec downloads."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import orjson
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from apis.doclinks import point_redoc_links
from apis.documents import (
    document_yaml,
    load_document,
    ref_name,
    resolve_ref,
    schema_document,
    schema_name,
    schema_segment,
)
from apis.forms import CatalogQueryForm, NavQueryForm
from apis.markdown import operation_title
from apis.models import (
    VERSION_READER_FIELDS,
    Api,
    ApiVersion,
    Operation,
    Schema,
    Tag,
    card_tags,
)
from apis.navigation import (
    TagGroup,
    filtered_nav,
    find_operation,
    group_links,
    nav_html,
    operation_url,
    tag_groups,
)
from apis.openapi.errors import escape_token as _token
from apis.reference import (
    LinkResolver,
    build_operation_view,
    build_overview,
    cached_operation_view,
)
from apis.schema_reader import SCHEMA_PREFIX, Where
from apis.schema_tree import SchemaRenderer, part_query
from apis.search import OperationHit, search_catalog
from portal.lib.htmx import HtmxHttpRequest
from products.visibility import visible_apis

VERSION_FIELDS = VERSION_READER_FIELDS


def _visible_apis(request: HttpRequest) -> QuerySet[Api]:
    """What this user may see (products/visibility.py); drafts need the apis.view_api perm."""
    return visible_apis(request.user)


def _get_api_for_user(request: HttpRequest, slug: str) -> Api:
    return get_object_or_404(
        _visible_apis(request).only("id", "slug", "name", "is_published", "default_version_id"),
        slug=slug,
    )


def _get_version(api: Api, label: str | None) -> tuple[ApiVersion, str | None]:
    """The version named by `?v=`, else the default; and the label links must carry along
    (None for the default version, so its URLs stay clean)."""
    versions = ApiVersion.objects.only(*VERSION_FIELDS)
    if label:
        version = versions.filter(api=api, label=label).first()
        if version is None:
            raise Http404("No such version")
        return version, (version.label if version.pk != api.default_version_id else None)
    default = versions.filter(pk=api.default_version_id).first() if api.default_version_id else None
    version = default or versions.filter(api=api).first()
    if version is None:
        raise Http404("This API has no version")
    return version, None


def _reference_context(
    api: Api, version: ApiVersion, query_label: str | None, current: str | None = None
) -> tuple[dict[str, Any], tuple[TagGroup, ...]]:
    """What every reference page shows around its content: versions and the navigation (with
    the group of operation `current` open)."""
    groups = tag_groups(version.pk, api.slug, version.overview, query_label)
    link = find_operation(groups, current) if current else None
    nav_query = {k: v for k, v in (("v", query_label), ("op", current)) if v}
    context = {
        "api": api,
        "version": version,
        "versions": ApiVersion.objects.filter(api=api).only("label", "created", "api_id"),
        "nav": nav_html(groups, version.pk, api.slug, query_label, link),
        "nav_url": reverse("apis:nav", args=[api.slug])
        + (f"?{urlencode(nav_query)}" if nav_query else ""),
        "query_label": query_label,
        # The try-it console plugs into these pages when its app is installed.
        "console_enabled": apps.is_installed("console"),
    }
    return context, groups


def _schema_urls(api: Api, label: str | None) -> Callable[[str], str]:
    """The URL of a named schema's page, in version `label`: one reverse() per page, not one
    per schema link (large pages hold hundreds of them)."""
    prefix = reverse("apis:schema", args=[api.slug, "~name~"]).replace("~name~/", "")
    query = f"?{urlencode({'v': label})}" if label else ""

    def schema_url(name: str) -> str:
        return f"{prefix}{quote(schema_segment(name), safe='')}/{query}"

    return schema_url


def _renderer(
    api: Api,
    version: ApiVersion,
    label: str | None,
    operation: str | None = None,
    preload: Any = None,
) -> SchemaRenderer:
    """The schema tree's renderer for a page: schemas are read row by row (never the whole
    document), those `preload` references fetched up front."""
    query = f"?{urlencode({'v': label})}" if label else ""
    op_part = (
        reverse("apis:operation_part", args=[api.slug, operation]) + query if operation else ""
    )
    schema_url = _schema_urls(api, label)

    def part_url(root: str, pointer: str) -> str:
        """A cut part of a schema: inside a named schema, or inside the operation."""
        base = schema_url(root) if root else op_part
        return f"{base}{'&' if '?' in base else '?'}{part_query(pointer)}"

    def scoped_url(url: str, places: list[tuple[str, str]]) -> str:
        """A cut part's URL with a `dyn` for each `$dynamicAnchor` bound where it was cut:
        `#/components/schemas/…` in a named schema, `<operation>#<pointer>` in the operation
        (read by `_dynamic_scope`)."""
        refs = [
            f"{SCHEMA_PREFIX}{_token(root)}{pointer}" if root else f"{operation}#{pointer}"
            for root, pointer in places
            if root or operation
        ]
        query = "&".join("dyn=" + quote(ref, safe="/~$") for ref in refs)
        return f"{url}{'&' if '?' in url else '?'}{query}" if refs else url

    return SchemaRenderer(
        schema_document(version.pk, preload),
        schema_url=schema_url,
        fragment_url=schema_url,
        part_url=part_url,
        scoped_url=scoped_url,
    )


def _dyn_refs(request: HttpRequest) -> list[str]:
    """A cut part's `?dyn=` references (see `scoped_url`): the first 20, each at most 2,000
    characters."""
    return [ref for ref in request.GET.getlist("dyn")[:20] if len(ref) <= 2000]


def _dynamic_scope(
    refs: list[str], renderer: SchemaRenderer, op: Operation | None
) -> list[tuple[Any, Where]]:
    """The `$dynamicAnchor` schemas a cut part had bound where it was cut (`refs`, from
    `_dyn_refs`), with their places: a `$dynamicRef` in the part binds as it did in place.
    Those in an operation are read from `op`, the one the part was cut from."""
    found: list[tuple[Any, Where]] = []
    for ref in refs:
        if ref.startswith(SCHEMA_PREFIX):
            token, _, rest = ref[len(SCHEMA_PREFIX) :].partition("/")
            where = (ref_name(token), f"/{rest}" if rest else "")
            found.append((renderer.lookup(ref), where))
        elif op is not None:
            slug, _, pointer = ref.partition("#")
            if slug == op.slug and pointer.startswith("/"):
                found.append((resolve_ref(op.data, "#" + pointer), ("", pointer)))
    return found


def _scope_operation(version: ApiVersion, refs: list[str]) -> Operation | None:
    """The operation a schema's cut part came from, when its `refs` name anchors in it."""
    slugs = {ref.partition("#")[0] for ref in refs if "#" in ref and not ref.startswith("#")}
    if len(slugs) != 1:
        return None
    return (
        Operation.objects.only("id", "slug", "data")
        .filter(version=version, slug=slugs.pop())
        .first()
    )


def _link_resolver(api: Api, version: ApiVersion, label: str | None) -> LinkResolver:
    def resolve(ids: list[str], pairs: list[tuple[str, str]]) -> dict[Any, str]:
        found: dict[Any, str] = {}
        ops = Operation.objects.filter(version=version)
        for operation_id, slug in ops.filter(operation_id__in=ids).values_list(
            "operation_id", "slug"
        ):
            found[operation_id] = operation_url(api.slug, slug, label)
        for path, method, slug in ops.filter(path__in=[p for p, _ in pairs]).values_list(
            "path", "method", "slug"
        ):
            if (path, method) in pairs:
                found[(path, method)] = operation_url(api.slug, slug, label)
        return found

    return resolve


def _pointer(request: HttpRequest) -> str | None:
    """The `?at=` JSON pointer of a cut part, or None for the whole thing."""
    at = request.GET.get("at")
    if at is None:
        return None
    if at and not at.startswith("/") or len(at) > 2000:
        raise Http404("Not a JSON pointer")
    return at


def _page_of_ids(apis: QuerySet[Api], ids: list[int], number: Any) -> Page:
    """The catalog page `number` of the APIs `ids` (matched and ordered by one query): its
    rows read by id, so the match is not run again to count and again to page."""
    page = Paginator(ids, settings.APIS_PAGE_SIZE).get_page(number)
    rows = apis.filter(pk__in=page.object_list).prefetch_related(card_tags()).in_bulk()
    return Page([rows[pk] for pk in page.object_list if pk in rows], page.number, page.paginator)


@require_GET
def catalog(request: HtmxHttpRequest) -> HttpResponse:
    form = CatalogQueryForm(request.GET)
    terms: list[str] = []
    tag = page_number = None
    if form.is_valid():
        terms, tag, page_number = (
            form.cleaned_data["q"],
            form.cleaned_data["tag"],
            form.cleaned_data["page"],
        )
    visible = _visible_apis(request)  # one queryset, cloned by each query below
    apis = visible.select_related("default_version").only(
        "slug", "name", "summary", "operation_count", "webhook_count", "is_published",
        "default_version__label", "default_version__spec_version",
    )  # fmt: skip
    if tag:
        apis = apis.filter(tags__name=tag)
    # Operations of the visible APIs (of the chosen tag), searched by their own index.
    searched = visible.filter(tags__name=tag) if tag else visible
    operations: list[OperationHit] = []
    if terms:
        ids, operations = search_catalog(apis, searched, " ".join(terms))
        page = _page_of_ids(apis, ids, page_number)
    else:
        page = Paginator(apis.prefetch_related(card_tags()), settings.APIS_PAGE_SIZE).get_page(
            page_number
        )
    tags = (
        Tag.objects.filter(apis__in=visible)
        .annotate(api_count=Count("apis"))
        .order_by("-api_count", Lower("name"), "name")[:30]
    )
    query = {k: v for k, v in (("q", form.data.get("q", "")), ("tag", tag or "")) if v}
    context = {
        "page": page,
        "form": form,
        "tags": tags,
        "tag": tag,
        "query": urlencode(query),
        "catalog_url": reverse("apis:catalog"),
        # Links built by string work, not one reverse() each (operation_url).
        "operations": [
            (
                hit,
                operation_title(hit.summary, hit.operation_id),
                operation_url(hit.api_slug, hit.slug, None),
            )
            for hit in operations
        ],
    }
    template = (
        "apis/catalog.html#results"
        if request.htmx and not request.htmx.boosted
        else "apis/catalog.html"
    )
    return render(request, template, context)


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    api = _get_api_for_user(request, slug)
    version, query_label = _get_version(api, request.GET.get("v"))
    context, groups = _reference_context(api, version, query_label)
    context |= {
        "overview": build_overview(version.overview),
        "groups": groups,
        "schema_count": Schema.objects.filter(version=version).count(),
        # Import problems are for publishers: "<JSON pointer>: <message>" split for display.
        "warnings": [
            (pointer, message) if message else (warning, "")
            for warning in (version.warnings if request.user.has_perm("apis.view_api") else [])
            for pointer, _, message in [str(warning).partition(": ")]
        ],
    }
    return _with_doc_links(render(request, "apis/detail.html", context), api, version, query_label)


@require_GET
def operation(request: HttpRequest, slug: str, operation: str) -> HttpResponse:
    api = _get_api_for_user(request, slug)
    version, query_label = _get_version(api, request.GET.get("v"))
    op = Operation.objects.filter(version=version, slug=operation).first()
    if op is None:
        # `containercreate` for Docker's `ContainerCreate` (typed, or linked by a tool that
        # lowers case): sent on when the case alone differs and only one operation matches.
        matches = list(
            Operation.objects.filter(version=version, slug__iexact=operation).values_list(
                "slug", flat=True
            )[:2]
        )
        if len(matches) == 1:
            query = request.META.get("QUERY_STRING", "")
            url = reverse("apis:operation", args=[api.slug, matches[0]])
            return redirect(f"{url}?{query}" if query else url, permanent=True)
        if (
            request.GET.get("v")
            and Operation.objects.filter(version__api=api, slug=operation).exists()
        ):
            # The version switcher from an operation the chosen version lacks: that
            # version's overview, saying why, rather than a 404.
            messages.info(
                request,
                f"Version {version.label} has no operation {operation}; "
                "here is that version's overview.",
            )
            url = reverse("apis:detail", args=[api.slug])
            return redirect(f"{url}?{urlencode({'v': query_label})}" if query_label else url)
        raise Http404("No such operation")
    context, _ = _reference_context(api, version, query_label, op.slug)
    context |= {
        "operation": op,
        "view": cached_operation_view(
            op.pk,
            api.slug,
            query_label,
            lambda: build_operation_view(
                op.data,
                version.overview,
                _renderer(api, version, query_label, op.slug, op.data),
                _link_resolver(api, version, query_label),
            ),
        ),
    }
    if context["console_enabled"]:
        # The console's panel, built (and its one-time restored form taken) here in the view.
        from console.panel import for_request

        context["console"] = for_request(request, api, version, op)
    response = render(request, "apis/operation.html", context)
    return _with_doc_links(response, api, version, query_label)


def _with_doc_links(
    response: HttpResponse, api: Api, version: ApiVersion, label: str | None
) -> HttpResponse:
    response.content = point_redoc_links(response.content, api.slug, version, label)
    return response


@require_GET
def nav(request: HttpRequest, slug: str) -> HttpResponse:
    """Parts of the side navigation for static/js/nav.js: one group's links (`g`), or the
    navigation filtered by `q` on the page of operation `op`. Readers without scripts never
    come here: folded groups link to their section of the API page."""
    api = _get_api_for_user(request, slug)
    version, query_label = _get_version(api, request.GET.get("v"))
    form = NavQueryForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest("Bad navigation query")
    groups = tag_groups(version.pk, api.slug, version.overview, query_label)
    group, terms = form.cleaned_data["g"], form.cleaned_data["q"]
    if group is not None:
        if group >= len(groups):
            raise Http404("No such group")
        return HttpResponse(group_links(groups[group]))
    current = find_operation(groups, form.cleaned_data["op"]) if form.cleaned_data["op"] else None
    if terms:
        return HttpResponse(filtered_nav(groups, terms, current.url if current else ""))
    return HttpResponse(nav_html(groups, version.pk, api.slug, query_label, current))


@require_GET
def schema(request: HtmxHttpRequest, slug: str, name: str) -> HttpResponse:
    """One named schema of `components/schemas`; htmx swaps its tree in place (lazy loading)."""
    name = schema_name(name)
    api = _get_api_for_user(request, slug)
    version, query_label = _get_version(api, request.GET.get("v"))
    refs = _dyn_refs(request)
    op = _scope_operation(version, refs)
    renderer = _renderer(api, version, query_label, op.slug if op else None)
    renderer.bind(_dynamic_scope(refs, renderer, op))
    ref = SCHEMA_PREFIX + _token(name)
    pointer = _pointer(request)
    target = renderer.lookup(ref + (pointer or ""))
    # A whole schema may be `true` or `false` (3.1+); a part to expand must be an object.
    if not isinstance(target, dict) and not (pointer is None and isinstance(target, bool)):
        raise Http404("No such schema")
    tree = (
        renderer.block({"$ref": ref}, where=(name, ""))
        if pointer is None
        else renderer.part(target, (name, pointer))
    )
    context = {"api": api, "version": version, "name": name, "pointer": pointer, "tree": tree}
    template = "apis/schema.html#tree" if request.htmx else "apis/schema.html"
    return _with_doc_links(render(request, template, context), api, version, query_label)


@require_GET
def schemas(request: HttpRequest, slug: str) -> HttpResponse:
    """Every named schema of a version, each a link to its page (Swagger UI's "Schemas"):
    the way in to a spec that publishes schemas and no operations."""
    api = _get_api_for_user(request, slug)
    version, query_label = _get_version(api, request.GET.get("v"))
    schema_url = _schema_urls(api, query_label)
    names = Schema.objects.filter(version=version).order_by("name").values_list("name", flat=True)
    context = {
        "api": api,
        "version": version,
        "schemas": [(name, schema_url(name)) for name in names],
    }
    return _with_doc_links(render(request, "apis/schemas.html", context), api, version, query_label)


@require_GET
def operation_part(request: HtmxHttpRequest, slug: str, operation: str) -> HttpResponse:
    """A part of an operation's schemas cut from its page by the row budget (`?at=`)."""
    api = _get_api_for_user(request, slug)
    version, query_label = _get_version(api, request.GET.get("v"))
    op = get_object_or_404(
        Operation.objects.only("id", "slug", "data"), version=version, slug=operation
    )
    pointer = _pointer(request) or ""
    target = resolve_ref(op.data, "#" + pointer) if pointer else None
    if not isinstance(target, dict):
        raise Http404("No such part")
    renderer = _renderer(api, version, query_label, op.slug, target)
    renderer.bind(_dynamic_scope(_dyn_refs(request), renderer, op))
    context = {
        "api": api,
        "version": version,
        "name": op.slug,
        "pointer": pointer,
        "operation": op,
        "tree": renderer.part(target, ("", pointer)),
    }
    template = "apis/schema.html#tree" if request.htmx else "apis/schema.html"
    return _with_doc_links(render(request, template, context), api, version, query_label)


DOWNLOAD_TYPES = {"json": "application/json", "yaml": "application/yaml"}
# The version label comes from the spec: only these characters reach the saved file name.
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def download_filename(slug: str, label: str) -> str:
    """`slug-label`, with anything that could quote, split or escape the header replaced."""
    safe = _UNSAFE_IN_FILENAME.sub("_", label).strip("._") or "version"
    return f"{slug}-{safe}"[:150]


@require_GET
def download(request: HttpRequest, slug: str, kind: str) -> HttpResponse:
    """The original upload, or the normalised document as JSON or YAML."""
    api = _get_api_for_user(request, slug)
    version, _ = _get_version(api, request.GET.get("v"))
    filename = download_filename(api.slug, version.label)
    if kind == "original":
        row = ApiVersion.objects.values_list("original", "source_format").get(pk=version.pk)
        raw, fmt = bytes(row[0]), row[1]
        extension, content_type = {
            "bundle": ("zip", "application/zip"),
            "yaml": ("yaml", "application/yaml"),
        }.get(fmt, ("json", "application/json"))
        response = HttpResponse(raw, content_type=content_type)
    elif kind in DOWNLOAD_TYPES:
        extension, content_type = kind, DOWNLOAD_TYPES[kind]
        if kind == "json":
            body: Any = orjson.dumps(load_document(version.pk), option=orjson.OPT_INDENT_2)
        else:
            body = document_yaml(version.pk)
        response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
        filename += "-openapi"
    else:
        raise Http404("Unknown download")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return response
