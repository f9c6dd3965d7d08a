"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

import orjson
from django.db import models


class OrderedJSONField(models.Field):  # type: ignore[type-arg]
    """JSON kept as text, so an object's members keep the document's order on every engine.

    Django's JSONField is `jsonb` on PostgreSQL, which sorts object keys by length and then
    bytes: a spec's first example, its responses by status and an inline schema's
    properties would come back in another order than the author wrote. Nothing queries
    inside these values, so text loses nothing.
    """

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else orjson.loads(value)

    def to_python(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, str | bytes) else value

    def get_prep_value(self, value: Any) -> Any:
        return None if value is None else orjson.dumps(value).decode()
