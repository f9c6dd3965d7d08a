"""Periodic clean-up for `manage.py maintain`: what expires but is never deleted on its own.

Every step deletes rows by a condition on time, so a run is idempotent and several replicas
running it at once (a timer on every machine) only race to delete the same rows: a row
another run deleted first is simply not counted, never an error.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)


def clear_sessions() -> int:
    """Expired sessions (the session engine never deletes them itself)."""
    from django.contrib.sessions.models import Session

    expired = Session.objects.filter(expire_date__lt=timezone.now())
    count = expired.count()
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    return count


def clear_oauth() -> dict[str, int]:
    """Expired and revoked tokens, grants and ID tokens of the built-in provider, with
    django-oauth-toolkit's own rules (`cleartokens`): revoked refresh tokens stay until they
    expire while reuse protection needs them."""
    from oauth2_provider.models import (
        clear_expired,
        get_access_token_model,
        get_grant_model,
        get_id_token_model,
        get_refresh_token_model,
    )

    models = {
        "access tokens": get_access_token_model(),
        "refresh tokens": get_refresh_token_model(),
        "ID tokens": get_id_token_model(),
        "authorization codes": get_grant_model(),
    }
    before = {name: model.objects.count() for name, model in models.items()}
    clear_expired()
    return {name: max(0, before[name] - model.objects.count()) for name, model in models.items()}


def clear_console_history() -> int:
    """Console calls older than CONSOLE_HISTORY_RETENTION_DAYS."""
    from console.models import CallHistory

    cutoff = timezone.now() - timedelta(days=settings.CONSOLE_HISTORY_RETENTION_DAYS)
    deleted, _ = CallHistory.objects.filter(created__lt=cutoff).delete()
    return deleted


def prune_signing_keys() -> int:
    """Retired signing keys no token they signed can still need."""
    from identity import keys

    return keys.prune()


def prune_revocations() -> int:
    """Revoked-token records of tokens that have expired anyway."""
    from identity import revocation

    return revocation.prune()


def run() -> dict[str, int]:
    counts = {"expired sessions": clear_sessions()}
    counts.update(clear_oauth())
    counts["console calls"] = clear_console_history()
    counts["retired signing keys"] = prune_signing_keys()
    counts["expired revocations"] = prune_revocations()
    logger.info("maintain: %s", ", ".join(f"{n} {what}" for what, n in counts.items()))
    return counts
