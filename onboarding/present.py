"""The JSON shapes /api/v1/ answers with (its OpenAPI document, openapi.yaml, describes them)."""

from __future__ import annotations

from typing import Any

from applications.models import Application
from products import flows as product_flows
from products.keys import KeyUnreadable
from products.models import Product, Subscription
from usage.quotas import QuotaUse, VolumeUse
from usage.reports import Row, Summary
from usage.windows import Window


def _lines(text: str) -> str:
    """Text typed in a browser's textarea (the admin's) arrives with CRLF line ends; a terminal
    reading the JSON wants LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def product(item: Product) -> dict[str, Any]:
    return {
        "id": item.slug,
        "name": item.name,
        "description": _lines(item.description),
        "apis": [api.slug for api in item.apis.all() if api.is_published],
        "approval_required": item.approval_required,
        "terms": _lines(item.terms),
    }


def application(app: Application, secret: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(app.uuid),
        "name": app.name,
        "description": _lines(app.description),
        "kind": app.kind,
        "client_id": app.client_id,
        "redirect_uris": list(app.redirect_uris),
        "server": app.server.slug if app.server is not None else None,
        "issuer": app.issuer or None,
        "console_secret_kept": bool(app.console_secret),
        "created": app.created.isoformat(),
    }
    if secret:
        body["client_secret"] = secret  # only in the answer that made it
    return body


def subscription(sub: Subscription) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(sub.uuid),
        "product": sub.product.slug,
        "application": str(sub.application.uuid) if sub.application is not None else None,
        "name": sub.name,
        "state": sub.state,
        # False: the product was unpublished; the gateway refuses the keys until it is again.
        "product_published": sub.product.published,
        "created": sub.created.isoformat(),
    }
    if sub.state in (Subscription.ACTIVE, Subscription.SUSPENDED, Subscription.SUBMITTED):
        try:
            body["primary_key"] = product_flows.shown_key(sub, "primary")
            body["secondary_key"] = product_flows.shown_key(sub, "secondary")
        except KeyUnreadable:
            pass
    return body


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def usage(
    range_key: str,
    window: Window,
    summary: Summary,
    top: list[Row],
    quota: QuotaUse | None,
    volume: VolumeUse | None = None,
) -> dict[str, Any]:
    """A subscription's or application's use over the range: what its page shows, as numbers
    (times in milliseconds, bandwidth in bytes, instants in UTC)."""
    body: dict[str, Any] = {
        "range": range_key,
        "from": window.start.isoformat(),
        "to": window.end.isoformat(),
        "calls": summary.calls,
        "success": summary.success,
        "blocked": summary.blocked,
        "failed": summary.failed,
        "other": summary.other,
        "error_rate": round(summary.error_rate, 4),
        "p50_ms": _ms(summary.p50_ms),
        "p95_ms": _ms(summary.p95_ms),
        "bytes_in": summary.bytes_in,
        "bytes_out": summary.bytes_out,
        "top_operations": [
            {
                "operation": row.key,
                "label": row.label,
                "calls": row.calls,
                "errors": row.errors,
                "p50_ms": _ms(row.p50_ms),
                "p95_ms": _ms(row.p95_ms),
            }
            for row in top
        ],  # fmt: skip
    }
    if quota is not None:
        body["quota"] = {
            "used": quota.used,
            "limit": quota.limit,
            "period_seconds": quota.seconds,
            "resets_at": quota.resets_at.isoformat(),
        }
    if volume is not None:
        body["quota_kilobytes"] = {
            "used_bytes": volume.used,
            "limit": volume.kilobytes,
            "period_seconds": volume.seconds,
            "resets_at": volume.resets_at.isoformat(),
        }
    return body
