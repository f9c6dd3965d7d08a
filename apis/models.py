"""The catalog: APIs, their imported versions and one row per operation.

An import stores everything the pages need (the original bytes, the normalised document,
the overview fields and the operations), so a page never parses a spec.
"""

from __future__ import annotations

from functools import cached_property

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from apis.openapi.model import OperationModel, operation_model
from portal.lib.fields import OrderedJSONField


class Tag(models.Model):
    name = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Tags a catalog card shows (templates/apis/catalog.html).
CARD_TAGS = 6


def card_tags() -> models.Prefetch:
    """The tags a page of cards reads, as `api.card_tags`: each API's first CARD_TAGS, not all
    of them (Microsoft Graph declares thousands, and every page that showed it read them all).
    A sliced prefetch needs its own attribute: Django cannot cache it as `api.tags`."""
    return models.Prefetch(
        "tags", queryset=Tag.objects.order_by("name")[:CARD_TAGS], to_attr="card_tags"
    )


class Api(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=300)
    is_published = models.BooleanField(default=False)
    default_version = models.ForeignKey(
        "ApiVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Copied from the default version so the catalog is one indexed query.
    summary = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="apis")
    operation_count = models.PositiveIntegerField(default=0)
    webhook_count = models.PositiveIntegerField(default=0)
    # The words the catalog finds it by, each once (apis/search.py api_text), indexed.
    search_text = models.TextField(blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("apis:detail", args=[self.slug])


class ApiVersion(models.Model):
    api = models.ForeignKey(
        Api, on_delete=models.CASCADE, related_name="versions", verbose_name="API"
    )
    label = models.CharField(max_length=100, help_text="info.version, unique per API")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    spec_version = models.CharField(max_length=20, help_text="2.0, 3.0.x, 3.1.x or 3.2.x")
    source_name = models.CharField(max_length=500, blank=True)
    source_format = models.CharField(
        max_length=10,
        choices=[("json", "JSON"), ("yaml", "YAML"), ("bundle", "Bundle (zip)")],
    )
    root_path = models.CharField(max_length=500, blank=True, help_text="root file of a bundle")
    # Overview fields read by the API page: info, servers, securitySchemes, tags, webhooks.
    overview = OrderedJSONField(default=dict)
    warnings = OrderedJSONField(default=list)
    created = models.DateTimeField(auto_now_add=True)
    # The uploaded bytes (a zip for bundles) and the normalised document as JSON bytes. Kept
    # as the last columns: SQLite walks a large value's overflow pages to reach any column
    # stored after it, which made every page read of a 4 MiB spec cost milliseconds.
    original = models.BinaryField()
    normalised = models.BinaryField()

    class Meta:
        verbose_name = "API version"
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["api", "label"], name="apis_version_label_unique")
        ]

    def __str__(self) -> str:
        return f"{self.api.slug} {self.label}"

    @property
    def is_default(self) -> bool:
        return self.api.default_version_id == self.pk

    @property
    def badge(self) -> str:
        """The label as a badge shows it: `v1.2` for a number, a word (`unversioned`,
        `v2` as written) otherwise, never `vunversioned` or `vv2`."""
        return f"v{self.label}" if self.label[:1].isdigit() else self.label


class Operation(models.Model):
    KIND_OPERATION = "operation"
    KIND_WEBHOOK = "webhook"

    version = models.ForeignKey(ApiVersion, on_delete=models.CASCADE, related_name="operations")
    slug = models.CharField(max_length=300, help_text="operationId, or method-path")
    kind = models.CharField(
        max_length=10,
        choices=[(KIND_OPERATION, "Operation"), (KIND_WEBHOOK, "Webhook")],
        default=KIND_OPERATION,
    )
    method = models.CharField(max_length=10)
    path = models.TextField(help_text="the path template, or the webhook name")
    operation_id = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    tag = models.CharField(max_length=200, blank=True, help_text="first tag, for grouping")
    deprecated = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    # The words search finds it by (apis/search.py): those of its operationId, path and tag
    # first, then those of its summary and description, each plural with its singulars.
    # Indexed by FTS5 on SQLite, GIN on PostgreSQL.
    search_terms = models.TextField(blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    # The operation object: path-level parameters and servers merged in, non-schema $refs
    # resolved; schema $refs stay as `#/components/schemas/...` into the normalised document.
    data = OrderedJSONField(default=dict)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "slug"], name="apis_operation_slug_unique")
        ]
        # An id typed whole in any case (`createinvoices`): apis/search.py _by_whole_id().
        indexes = [models.Index(Lower("operation_id"), name="apis_operation_id_lower")]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def get_absolute_url(self) -> str:
        return reverse("apis:operation", args=[self.version.api.slug, self.slug])

    @property
    def tags(self) -> list[str]:
        return list(self.model.tags)

    @cached_property
    def model(self) -> OperationModel:
        """The typed view of `data`, its shapes checked once for every reader of this row."""
        return operation_model(self.data)


# What readers of a version need: not the original and normalised documents (megabytes for
# the largest specs) nor `warnings`, read for publishers only: on SQLite, migration 0004
# rebuilt the table with it after the documents, and reading it walked their overflow pages
# (Kubernetes: 36 ms on a busy machine, against 0.01 ms for the others).
VERSION_READER_FIELDS = (
    "id",
    "api_id",
    "label",
    "title",
    "spec_version",
    "source_format",
    "overview",
    "created",
)


class Schema(models.Model):
    """One `components/schemas` entry of a version, as orjson bytes.

    An operation page loads only the schemas it draws, row by row, instead of the whole
    normalised document (7 MB for the largest specs).
    """

    version = models.ForeignKey(ApiVersion, on_delete=models.CASCADE, related_name="schemas")
    name = models.TextField()
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="apis_schema_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
