"""Usage analytics: the raw events the gateway records and the rollups the pages read.

Dimensions are plain integers and strings, not foreign keys: an event outlives the API,
subscription or developer it names (deleting a developer anonymises or deletes their rows in
usage/anonymise.py by configuration), the gateway inserts without joins, and the rollups could
move to a columnar store unchanged (docs/deploy.md).

In the rollups an absent id is 0 and an absent string "", never NULL: the upsert in
usage/aggregate.py adds into the row with the same key, and SQL unique constraints treat NULLs
as distinct. usage/reports.py turns 0 back into None.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from usage.cells import CLIENT_ID_LENGTH, OPERATION_LENGTH

MINUTE, HOUR, DAY = 1, 2, 3
LEVELS = [(MINUTE, "minute"), (HOUR, "hour"), (DAY, "day")]
LEVEL_SECONDS = {MINUTE: 60, HOUR: 3600, DAY: 86400}

OUTCOMES = ("success", "blocked", "failed", "other")


class UsageEvent(models.Model):
    """One gateway response, as the gateway wrote it when no Redis carries events
    (usage/recorder.py); aggregators claim rows and set `aggregated`. Kept for
    USAGE_RETENTION_RAW_DAYS (2) days, then deleted by usage/retention.py.

    The fields are the event of usage/events.py; `check` is `check_name` here because a
    field named `check` would hide Django's Model.check()."""

    ts = models.DateTimeField(db_index=True)
    api_id = models.BigIntegerField(null=True, blank=True)  # None: refused before any API matched
    operation = models.CharField(max_length=OPERATION_LENGTH, blank=True)
    product_id = models.BigIntegerField(null=True, blank=True)
    subscription_id = models.BigIntegerField(null=True, blank=True)
    client_id = models.CharField(max_length=CLIENT_ID_LENGTH, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    status = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=8, choices=[(o, o) for o in OUTCOMES])
    check_name = models.CharField(max_length=40, blank=True)  # the check that blocked it
    total_ms = models.FloatField()
    backend_ms = models.FloatField(null=True, blank=True)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    client_net = models.CharField(max_length=50, blank=True)  # /24 or /48, or "" (never more)
    aggregated = models.BooleanField(default=False, db_index=True)

    class Meta:
        indexes = [
            # What aggregators claim: the oldest rows not yet counted.
            models.Index(fields=["id"], condition=Q(aggregated=False), name="usage_event_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.ts:%Y-%m-%d %H:%M:%S} {self.api_id} {self.operation} {self.status}"


class Rollup(models.Model):
    """The measures every rollup row carries: counts by outcome, bytes, total and backend
    time (sum, min, max) and a latency histogram (usage/histogram.py) for percentiles."""

    level = models.PositiveSmallIntegerField(choices=LEVELS)
    start = models.DateTimeField()  # the bucket's start, UTC, aligned to its level

    success = models.BigIntegerField(default=0)
    blocked = models.BigIntegerField(default=0)
    failed = models.BigIntegerField(default=0)
    other = models.BigIntegerField(default=0)
    bytes_in = models.BigIntegerField(default=0)
    bytes_out = models.BigIntegerField(default=0)
    total_ms_sum = models.FloatField(default=0)
    total_ms_min = models.FloatField(null=True, blank=True)
    total_ms_max = models.FloatField(null=True, blank=True)
    backend_count = models.BigIntegerField(default=0)  # calls that reached a backend
    backend_ms_sum = models.FloatField(default=0)
    backend_ms_min = models.FloatField(null=True, blank=True)
    backend_ms_max = models.FloatField(null=True, blank=True)
    # Calls by total time: h0 <= 1 ms, h1 <= 2 ms ... h15 > 5 s (histogram.EDGES_MS).
    h0 = models.BigIntegerField(default=0)
    h1 = models.BigIntegerField(default=0)
    h2 = models.BigIntegerField(default=0)
    h3 = models.BigIntegerField(default=0)
    h4 = models.BigIntegerField(default=0)
    h5 = models.BigIntegerField(default=0)
    h6 = models.BigIntegerField(default=0)
    h7 = models.BigIntegerField(default=0)
    h8 = models.BigIntegerField(default=0)
    h9 = models.BigIntegerField(default=0)
    h10 = models.BigIntegerField(default=0)
    h11 = models.BigIntegerField(default=0)
    h12 = models.BigIntegerField(default=0)
    h13 = models.BigIntegerField(default=0)
    h14 = models.BigIntegerField(default=0)
    h15 = models.BigIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def calls(self) -> int:
        return self.success + self.blocked + self.failed + self.other


class ApiRollup(Rollup):
    """Traffic by API, operation and product, without consumers: the administrators' totals
    and their rankings by API, operation and product. The narrowest table."""

    api_id = models.BigIntegerField(default=0)
    operation = models.CharField(max_length=OPERATION_LENGTH, blank=True, default="")
    product_id = models.BigIntegerField(default=0)

    KEY = ("api_id", "operation", "product_id")

    class Meta:
        # The staff reports page (usage/views.py); developers see their own use without it.
        permissions = [("view_reports", "Can view usage reports")]
        constraints = [
            models.UniqueConstraint(
                fields=["level", "start", "api_id", "operation", "product_id"],
                name="usage_apirollup_key",
            )
        ]
        # The reports filtered by one product: without it they walk every API's rows of
        # the range in the key above.
        indexes = [models.Index(fields=["product_id", "level", "start"], name="usage_api_product")]


class ConsumerRollup(Rollup):
    """Traffic by consumer (subscription, application, developer) and API, without
    operations: the developer pages' charts and the rankings by consumer."""

    subscription_id = models.BigIntegerField(default=0)
    client_id = models.CharField(max_length=CLIENT_ID_LENGTH, blank=True, default="")
    user_id = models.BigIntegerField(default=0)
    api_id = models.BigIntegerField(default=0)
    product_id = models.BigIntegerField(default=0)

    KEY = ("subscription_id", "client_id", "user_id", "api_id", "product_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "start", "subscription_id", "client_id", "user_id", "api_id",
                        "product_id"],
                name="usage_consumerrollup_key",
            )
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["subscription_id", "level", "start"], name="usage_cons_sub"),
            models.Index(fields=["client_id", "level", "start"], name="usage_cons_client"),
            models.Index(fields=["user_id", "level", "start"], name="usage_cons_user"),
            # A product's report ranked by consumer: 186 ms on PostgreSQL for 7 days of the
            # bench's data through the key (every consumer's rows of the range), 28 ms here.
            models.Index(fields=["product_id", "level", "start"], name="usage_cons_product"),
        ]


class ConsumerOperationRollup(Rollup):
    """Every dimension at once, hours and days only (no minutes: the widest table): a
    consumer's top operations, and filters that combine a consumer with an operation."""

    subscription_id = models.BigIntegerField(default=0)
    client_id = models.CharField(max_length=CLIENT_ID_LENGTH, blank=True, default="")
    user_id = models.BigIntegerField(default=0)
    api_id = models.BigIntegerField(default=0)
    operation = models.CharField(max_length=OPERATION_LENGTH, blank=True, default="")
    product_id = models.BigIntegerField(default=0)

    KEY = ("subscription_id", "client_id", "user_id", "api_id", "operation", "product_id")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "start", "subscription_id", "client_id", "user_id", "api_id",
                        "operation", "product_id"],
                name="usage_consoprollup_key",
            )
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["subscription_id", "level", "start"], name="usage_consop_sub"),
            models.Index(fields=["client_id", "level", "start"], name="usage_consop_client"),
            models.Index(fields=["user_id", "level", "start"], name="usage_consop_user"),
        ]


# Every rollup table, narrowest first.
ROLLUPS = (ApiRollup, ConsumerRollup, ConsumerOperationRollup)


class ForgottenConsumer(models.Model):
    """A deleted developer's id, and those of their subscriptions and applications, which
    usage/anonymise.py made name nobody. Calls still in flight then (summed in a gateway, or
    waiting in the Redis stream) carry these ids: the aggregator makes them name nobody too
    (usage/aggregate.py, Batch.fill_users). Kept FORGOTTEN_DAYS (usage/retention.py)."""

    USER, SUBSCRIPTION, CLIENT = "user", "subscription", "client"

    kind = models.CharField(max_length=12)
    value = models.CharField(max_length=CLIENT_ID_LENGTH)  # an id, or a client id
    forgotten = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="usage_forgotten_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value}"


class StreamEntry(models.Model):
    """A Redis stream entry whose events are in the rollups, written in the same transaction
    as the rollups. An entry another aggregator claims after a crash between that commit and
    its XACK is then skipped instead of counted twice (usage/aggregate.py)."""

    entry_id = models.CharField(max_length=40, primary_key=True)
    applied = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.entry_id


class ClosedDaysVersion(models.Model):
    """One row whose token changes in the transaction that changes any rollup row of a day
    before today (a late event, a developer's usage anonymised, a day past its retention).
    Totals of closed days are kept between requests under it (usage/closed.py), so what
    they keep is never older than the rows."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


class KeptTotal(models.Model):
    """Totals of closed days that usage/prefill.py computed in the aggregator, off any
    request, for the pages staff open most (usage/closed.py reads them on a cache miss).
    In the database rather than only in the cache: the embedded default's local-memory
    cache is the portal process's own, and a restarted portal finds them still there.
    `key` names the question and ClosedDaysVersion's token, so a new token simply misses."""

    key = models.CharField(max_length=64, primary_key=True)
    value = models.BinaryField()  # pickled, as Django's database cache stores its values
    created = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key
