"""Old and new values in the admin's change history, secrets masked.

Django's admin history (LogEntry) records only the names of the fields a change touched.
For security-relevant configuration (provider clients, authorization servers, gateway
policies) an operator needs what the value was and what it became. `AuditedAdmin` writes
that into the history entry and the `portal.audit` log; a secret shows only that it changed.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.forms import BaseForm
from django.http import HttpRequest

log = logging.getLogger("portal.audit")

SECRET_FIELD = re.compile(r"secret|password|private|token|credential", re.IGNORECASE)
MASK = "********"
LONGEST = 500  # characters of a value kept in the trail


def shown(name: str, value: Any) -> str:
    # A switch such as allow_password is no secret; its value is the point of the trail.
    if SECRET_FIELD.search(name) and not isinstance(value, bool):
        return MASK if value not in (None, "") else ""
    if isinstance(value, (list, tuple, set, frozenset)):
        text = ", ".join(str(item) for item in value)
    elif hasattr(value, "pk"):
        text = str(value)
    elif isinstance(value, (dict,)):
        text = json.dumps(value, sort_keys=True, default=str)
    else:
        text = "" if value is None else str(value)
    return text if len(text) <= LONGEST else text[:LONGEST] + "…"


def _initial(form: BaseForm, name: str) -> Any:
    value = form.initial.get(name)
    field = form.fields.get(name)
    # Choices of a foreign key start as the primary key: show the object as after the change.
    queryset = getattr(field, "queryset", None)
    if queryset is not None and value is not None and not isinstance(value, (list, tuple)):
        found = queryset.filter(pk=value).first()
        return found if found is not None else value
    return value


def form_changes(form: BaseForm) -> list[dict[str, str]]:
    """[{field, old, new}] for each field the form changed."""
    changes = []
    for name in form.changed_data:
        old, new = shown(name, _initial(form, name)), shown(name, form.cleaned_data.get(name))
        if old != new or old == MASK:  # a secret changed, or a value really did
            changes.append({"field": name, "old": old, "new": new})
    return changes


def describe(changes: Iterable[dict[str, str]]) -> str:
    return "; ".join(f"{c['field']}: {c['old']!r} -> {c['new']!r}" for c in changes)


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin whose history entries name each changed field's old and new value."""

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        if add:
            return super().construct_change_message(request, form, formsets, add)
        parts = []
        if own := form_changes(form):
            parts.append(f"Changed {describe(own)}.")
        for formset in formsets or []:
            for obj in formset.new_objects:
                parts.append(f"Added {obj._meta.verbose_name} “{obj}”.")
            for obj, _changed in formset.changed_objects:
                inline_form = next(f for f in formset.forms if f.instance.pk == obj.pk)
                parts.append(
                    f"Changed {obj._meta.verbose_name} “{obj}”: "
                    f"{describe(form_changes(inline_form))}."
                )
            for obj in formset.deleted_objects:
                parts.append(f"Deleted {obj._meta.verbose_name} “{obj}”.")
        message = " ".join(parts) or "No fields changed."
        log.warning(
            "%s changed %s %s: %s",
            request.user.get_username() if hasattr(request, "user") else "?",
            form.instance._meta.label,
            form.instance.pk,
            message,
        )
        return message


def event(actor: Any, action: str, target: Any, **details: Any) -> None:
    """One `portal.audit` line for a change a person made outside the admin (their
    applications, their subscriptions): who, what, which object, and the details, secrets
    masked as in the admin's trail. `actor` None is the system (an expiry, a cascade)."""
    who = actor.get_username() if actor is not None and hasattr(actor, "get_username") else "-"
    ident = getattr(target, "uuid", None) or getattr(target, "pk", "")
    facts = " ".join(f"{name}={shown(name, value)!r}" for name, value in details.items())
    log.info("%s %s %s %s %s", who or "-", action, target._meta.label, ident, facts)
