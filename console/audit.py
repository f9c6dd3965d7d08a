"""The audit trail for grant changes (SECURITY.md case 51)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from console.models import GRANT_LABELS, LEGACY_GRANTS, AuditEntry, AuthorizationServer

log = logging.getLogger("console.audit")


def record_grant_changes(
    server: AuthorizationServer, before: Iterable[str], actor: str
) -> list[AuditEntry]:
    """One entry per legacy grant turned on or off, from the admin or from applyconfig."""
    before_set, after = set(before), set(server.grants)
    entries = []
    for grant in sorted(LEGACY_GRANTS):
        if grant in after and grant not in before_set:
            action = f"enabled {grant}"
        elif grant in before_set and grant not in after:
            action = f"disabled {grant}"
        else:
            continue
        entry = AuditEntry.objects.create(
            actor=actor,
            server=server,
            server_name=server.name,
            action=action,
            detail=f"{GRANT_LABELS[grant]} on {server.name} ({server.slug}).",
        )
        log.warning("%s %s on authorization server %s", actor, action, server.slug)
        entries.append(entry)
    return entries
