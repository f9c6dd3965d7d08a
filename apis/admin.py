"""Django admin for the catalog: import a spec (file or zip) by upload or from a URL, publish,
pick the default version, delete versions, read import warnings.

The upload runs the same `apis.openapi.load_bytes` (a URL `apis.remote.load_url`) +
`apis.importer.import_spec` as the `importspec` command; a refused document is shown on the
form and nothing is stored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.files.uploadhandler import StopUpload
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from apis.importer import (
    ImportRefused,
    VersionExists,
    delete_version,
    import_spec,
    plural,
    refresh_from_default,
    set_default_version,
)
from apis.models import Api, ApiVersion, Operation, Tag
from apis.openapi import SpecError, load_bytes
from apis.openapi.errors import TooLarge
from apis.remote import NotADocument, Unreadable, load_url
from gateway import version as gateway_version
from portal.lib.times import short_time
from portal.lib.uploads import InMemoryUploads


def _apis(done: str, count: int) -> str:
    return ngettext("%(done)s %(n)d API.", "%(done)s %(n)d APIs.", count) % {
        "done": done,
        "n": count,
    }


def _max_bytes() -> int:
    return int(settings.APIS_MAX_SPEC_BYTES)


class LimitedUploadHandler(InMemoryUploads):
    """Stops reading an upload as soon as it passes APIS_MAX_SPEC_BYTES (case 35); what it
    read is held in memory (portal/lib/uploads.py: a large spec needs no temporary folder)."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > _max_bytes():
            if self.request is not None:
                self.request._spec_too_large = True  # type: ignore[attr-defined]
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


class ImportSpecForm(forms.Form):
    file = forms.FileField(
        required=False,
        help_text="An OpenAPI 3.0/3.1/3.2 or Swagger 2.0 document (JSON or YAML), or a zip "
        "of a folder whose files $ref each other.",
    )
    url = forms.URLField(
        label="Or a URL",
        required=False,
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text="The address of the raw JSON or YAML document (http or https); files its "
        "$refs name beside it are fetched too.",
    )
    slug = forms.SlugField(
        required=False,
        max_length=100,
        help_text="The API's address (/apis/slug/). Empty: made from info.title, and a "
        "document whose title changed becomes a new API; give the slug of an API to add a "
        "version to it.",
    )
    root = forms.CharField(
        required=False,
        max_length=500,
        help_text="Zip only: the root document, when more than one file looks like one.",
    )
    publish = forms.BooleanField(
        required=False,
        help_text="Show it to developers now. Unticked, it is a draft that only staff see, until "
        "published on its admin page.",
    )
    replace = forms.BooleanField(
        required=False, help_text="Replace the version with the same label (others are kept)."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            if data.get("file") and data.get("url"):
                raise forms.ValidationError("Give a file or a URL, not both.")
            if not data.get("file") and not data.get("url"):
                raise forms.ValidationError("Choose a file or give a URL.")
        return data


class VersionInline(admin.TabularInline):
    model = ApiVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("label", "title", "spec_version", "source_name", "warning_count", "created")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="warnings")
    def warning_count(self, obj: ApiVersion) -> int:
        return len(obj.warnings or [])


def _closed_warning(api: Api) -> str:
    """Why a published API is still seen by nobody but drafts' viewers, or "": the products
    offering it are unpublished or offered to no group (products/visibility.py)."""
    from products.visibility import closed_by

    products = closed_by(api)
    if not products:
        return ""
    names = " and ".join(p.name for p in products)
    one = len(products) == 1
    drafts = all(not p.published for p in products)
    if one:
        why = "it is not published" if drafts else "no group may see it"
    else:
        why = "none is published" if drafts else "none is published to a group"
    # A published product without groups still takes its existing subscriptions' keys.
    gateway = "the gateway refuses its calls" if drafts else "no one can subscribe to call it"
    return (
        f"{api.name} is published, but only {names} {'offers' if one else 'offer'} it, and "
        f"{why}: it is hidden from everyone but drafts' viewers, and {gateway}. Publish the "
        "product (to a group), or take the API out of it to make it public."
    )


@admin.register(Api)
class ApiAdmin(admin.ModelAdmin):
    # Short headers: 'Is published', 'Default version' and 'Operation count' pushed Updated
    # out of sight beside the navigation at 1280 px.
    list_display = ("name", "slug", "published", "default_label", "operations", "changed")
    list_filter = ("is_published",)
    search_fields = ("name", "slug")
    fields = ("name", "slug", "is_published", "default_version", "summary", "operation_count")
    readonly_fields = ("summary", "operation_count")
    inlines = [VersionInline]
    actions = ["publish", "unpublish"]
    change_list_template = "admin/apis/api/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Api]:
        return super().get_queryset(request).select_related("default_version")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # APIs are created by importing a spec

    @admin.display(description="version")
    def default_label(self, obj: Api) -> str:
        return obj.default_version.label if obj.default_version else "—"

    @admin.display(description="published", boolean=True, ordering="is_published")
    def published(self, obj: Api) -> bool:
        return obj.is_published

    @admin.display(description="operations", ordering="operation_count")
    def operations(self, obj: Api) -> int:
        return obj.operation_count

    @admin.display(description="updated", ordering="updated")
    def changed(self, obj: Api) -> str:
        return short_time(obj.updated)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "default_version":
            match = request.resolver_match
            api_id = str(match.kwargs.get("object_id") or "0") if match else "0"
            kwargs["queryset"] = ApiVersion.objects.filter(api_id=api_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Api, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "default_version" in form.changed_data:
            refresh_from_default(obj)
        if obj.is_published and (warning := _closed_warning(obj)):
            self.message_user(request, warning, messages.WARNING)

    @admin.action(description="Publish selected APIs", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Api]) -> None:
        # `updated` too: update() moves no auto_now field, and the gateway's fingerprints
        # read it; update() sends no post_save either, hence the bump.
        count = queryset.update(is_published=True, updated=timezone.now())
        gateway_version.bump()
        self.message_user(request, _apis("Published", count), messages.SUCCESS)
        for api in queryset.order_by("name"):
            if warning := _closed_warning(api):
                self.message_user(request, warning, messages.WARNING)

    @admin.action(description="Unpublish selected APIs", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Api]) -> None:
        count = queryset.update(is_published=False, updated=timezone.now())
        gateway_version.bump()  # as in publish
        self.message_user(request, _apis("Unpublished", count), messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self._import_entry)
        return [path("import/", view, name="apis_api_import"), *super().get_urls()]

    @csrf_exempt
    def _import_entry(self, request: HttpRequest) -> HttpResponse:
        # The size-limiting handler must be in place before anything reads the body, and
        # the CSRF check reads it: so CSRF is checked here, after the handler is set.
        request.upload_handlers.insert(0, LimitedUploadHandler(request))
        return csrf_protect(self.import_view)(request)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            return HttpResponse("Forbidden", status=403)
        status = 200
        if request.method == "POST":
            form = ImportSpecForm(request.POST, request.FILES)
            if getattr(request, "_spec_too_large", False):
                form.is_valid()
                form.add_error(
                    "file",
                    f"The upload is over the limit of {_max_bytes():,} bytes "
                    "(setting APIS_MAX_SPEC_BYTES); nothing was imported.",
                )
                status = 413
            elif form.is_valid():
                response = self._do_import(request, form)
                if response is not None:
                    return response
                status = form.status  # type: ignore[attr-defined]
            else:
                status = 400
        else:
            form = ImportSpecForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import an API description",
            "form": form,
            "max_bytes": _max_bytes(),
        }
        return TemplateResponse(request, "admin/apis/api/import.html", context, status=status)

    def _do_import(self, request: HttpRequest, form: ImportSpecForm) -> HttpResponse | None:
        upload = form.cleaned_data["file"]
        url = form.cleaned_data["url"]
        root = form.cleaned_data["root"] or None
        if upload and upload.size > _max_bytes():
            form.add_error("file", f"The upload is over the limit of {_max_bytes():,} bytes.")
            form.status = 413  # type: ignore[attr-defined]
            return None
        try:
            if url:
                spec = load_url(url, root)
            else:
                spec = load_bytes(upload.read(), upload.name or "upload", root)
            result = import_spec(
                spec,
                slug=form.cleaned_data["slug"] or None,
                publish=form.cleaned_data["publish"],
                replace=form.cleaned_data["replace"],
            )
        except SpecError as exc:
            if exc.rule == "root" and "several files" in exc.message:
                form.add_error("root", f"Not imported: {exc}. Write its path in the Root field.")
                form.status = 400  # type: ignore[attr-defined]
                return None
            form.add_error("url" if url else "file", f"Not imported: {exc}")
            form.status = 413 if isinstance(exc, TooLarge) else 400  # type: ignore[attr-defined]
            return None
        except (Unreadable, NotADocument) as exc:
            form.add_error("url", f"Not imported: {exc}")
            form.status = 400  # type: ignore[attr-defined]
            return None
        except VersionExists as exc:
            form.add_error(
                "replace",
                f"Not imported: {exc}. To replace that version, tick “Replace” and upload "
                "again (other versions are kept).",
            )
            form.status = 400  # type: ignore[attr-defined]
            return None
        except ImportRefused as exc:
            form.add_error(None, f"Not imported: {exc}")
            form.status = 400  # type: ignore[attr-defined]
            return None
        level = messages.WARNING if spec.warnings else messages.SUCCESS
        extra = (
            f" with {plural(len(spec.warnings), 'warning')} (listed below)" if spec.warnings else ""
        )
        api = result.version.api
        if result.created_api:
            what = " It is a new API."
        elif result.replaced:
            what = " It replaces that version (the others are kept)."
        else:
            others = api.versions.count() - 1
            what = (
                f" It is a new version of {api.name}, now its default; "
                + ("the 1 other stays" if others == 1 else f"the other {others} stay")
                + " one click away in its version switcher."
            )
        draft = (
            ""
            if api.is_published
            else format_html(
                " It is a draft: only staff see it until it is published (tick “Is published” "
                'on <a href="{}">its admin page</a>).',
                reverse("admin:apis_api_change", args=[api.pk]),
            )
        )
        self.message_user(
            request,
            format_html(
                '{}{}.{} <a href="{}">Open its page</a>.{}',
                result.summary_line(), extra, what, reverse("apis:detail", args=[api.slug]), draft,
            ),
            level,
        )  # fmt: skip
        if not hasattr(api, "gateway_route"):
            # Else a product offering it sells nothing the gateway will pass.
            add = reverse("admin:gateway_route_add") + f"?api={api.pk}"
            self.message_user(
                request,
                format_html(
                    "No gateway route serves {} yet: no call reaches it through the gateway "
                    "(keys, policies, usage) until one does. "
                    '<a href="{}">Add a route</a>, or give the API a <code>gateway:</code> '
                    "entry in the configuration file (docs/config-reference.md).",
                    api.name, add,
                ),
                messages.INFO,
            )  # fmt: skip
        return HttpResponseRedirect(
            reverse("admin:apis_apiversion_change", args=[result.version.pk])
        )


@admin.register(ApiVersion)
class ApiVersionAdmin(admin.ModelAdmin):
    # The version's title (most often the API's name) is on its page; without it, and with
    # short headers and times, the webhooks, warnings and creation columns fit at 1280 px.
    list_display = (
        "api",
        "label",
        "openapi",
        "is_default_display",
        "ops",
        "hooks",
        "warns",
        "imported",
    )
    list_filter = ("spec_version", "source_format")
    search_fields = ("api__name", "api__slug", "label", "title")
    list_select_related = ("api",)
    actions = ["make_default"]
    fields = (
        "api",
        "label",
        "title",
        "spec_version",
        "source_name",
        "source_format",
        "root_path",
        "is_default_display",
        "created",
        "warning_list",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiVersion]:
        # Not the documents (megabytes a version for the largest specs), and the operations
        # counted in a subquery: a joined Count grouped by every column, documents included
        # (Stripe and OpenAI made the list and its filters take 4 to 10 s).
        # Webhooks are Operation rows too, but calls the API makes, not ones a developer can:
        # counted apart, as the API page lists them apart.
        def count(kind: str) -> Coalesce:
            rows = (
                Operation.objects.filter(version=OuterRef("pk"), kind=kind)
                .order_by()
                .values("version")
                .annotate(n=Count("pk"))
                .values("n")
            )
            return Coalesce(Subquery(rows), 0)

        return (
            super()
            .get_queryset(request)
            .defer("original", "normalised")
            .annotate(
                op_count=count(Operation.KIND_OPERATION), hook_count=count(Operation.KIND_WEBHOOK)
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Every field is read-only (a new version is a new import): nothing to save.
        context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, context)

    @admin.display(description="default", boolean=True)
    def is_default_display(self, obj: ApiVersion) -> bool:
        return obj.is_default

    @admin.display(description="OpenAPI", ordering="spec_version")
    def openapi(self, obj: ApiVersion) -> str:
        return obj.spec_version

    @admin.display(description="imported", ordering="created")
    def imported(self, obj: ApiVersion) -> str:
        return short_time(obj.created)

    @admin.display(description="operations")
    def ops(self, obj: ApiVersion) -> int:
        return int(getattr(obj, "op_count", 0))

    @admin.display(description="webhooks")
    def hooks(self, obj: ApiVersion) -> int:
        return int(getattr(obj, "hook_count", 0))

    @admin.display(description="warnings")
    def warns(self, obj: ApiVersion) -> int:
        return len(obj.warnings or [])

    @admin.display(description="import warnings")
    def warning_list(self, obj: ApiVersion) -> str:
        if not obj.warnings:
            return "None"
        return format_html(
            "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((w,) for w in obj.warnings))
        )

    @admin.action(description="Make the selected version its API's default", permissions=["change"])
    def make_default(self, request: HttpRequest, queryset: QuerySet[ApiVersion]) -> None:
        versions = list(queryset.select_related("api"))
        if len({v.api_id for v in versions}) != len(versions):
            self.message_user(
                request, "Select at most one version per API to make default.", messages.ERROR
            )
            return
        for version in versions:
            set_default_version(version)
        labels = ", ".join(f"{v.api.slug} {v.label}" for v in versions)
        self.message_user(request, f"Default version set: {labels}.", messages.SUCCESS)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ApiVersion]) -> None:
        # Through delete_version so an API whose default goes keeps a default.
        for version in list(queryset):
            delete_version(version)

    def delete_model(self, request: HttpRequest, obj: ApiVersion) -> None:
        delete_version(obj)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
