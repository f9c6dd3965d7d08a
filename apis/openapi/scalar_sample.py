"""Sample values of scalar schemas: strings held to their format, length and pattern, numbers
to their bounds and `multipleOf`, and the first enum value of the schema's type. The rest of
a sample (objects, arrays, compositions, examples) is apis/openapi/sample.py's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import orjson

from apis.openapi.pattern import VERIFY_UP_TO, matching
from apis.openapi.regex_safety import safe_search
from apis.openapi.values import is_number

_FORMAT_SAMPLES: dict[str, Any] = {
    "date-time": "2024-01-01T12:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "email": "user@example.com",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "uri": "https://example.com",
    "url": "https://example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "U3dhZ2dlciByb2Nrcw==",
    "base64": "U3dhZ2dlciByb2Nrcw==",
    "binary": "",
    "password": "********",
}


OF_KIND: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def enum_value(enum: list[Any], kind: Any) -> Any:
    """The first listed value of the schema's type. Specs list numbers under `type: string`
    (Plaid's `4.1`): with no string among them, a string schema gets the first one's JSON
    text, which is what the backend reads (a number would fail the body's own check)."""
    fits = OF_KIND.get(kind) if isinstance(kind, str) else None
    if fits is None:
        return enum[0]
    fitting = next((value for value in enum if fits(value)), None)
    if fitting is not None:
        return fitting
    if kind == "string" and isinstance(enum[0], int | float | bool):
        return orjson.dumps(enum[0]).decode()
    return enum[0]


def positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def kind_of(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        if "properties" in schema or "additionalProperties" in schema:
            kind = "object"
        elif "items" in schema or "prefixItems" in schema:
            kind = "array"
    return kind


def scalar(schema: dict[str, Any], kind: Any) -> Any:
    if kind == "string":
        text = _string(schema)
        pattern = schema.get("pattern")
        if not isinstance(pattern, str) or fits_pattern(text, pattern):
            return text
        fitting = matching(pattern, schema.get("minLength"), schema.get("maxLength"))
        return text if fitting is None else fitting
    if kind == "integer":
        return _number(schema, 0, integer=True)
    if kind == "number":
        return _number(schema, 0.0, integer=False)
    if kind == "boolean":
        return True
    return None


def _string(schema: dict[str, Any]) -> str:
    """The format's sample (else "string"), held to minLength and maxLength: the length is
    checked where a format is not (`password: {format: password, minLength: 10}`)."""
    fmt = schema.get("format")
    text = "string"
    if isinstance(fmt, str) and fmt in _FORMAT_SAMPLES:
        text = str(_FORMAT_SAMPLES[fmt])
    elif schema.get("contentEncoding") in ("base64", "base64url"):  # 3.1's `format: byte`
        text = str(_FORMAT_SAMPLES["byte"])
    if not text:
        return text  # `format: binary`: a file, no text
    min_len, max_len = schema.get("minLength"), schema.get("maxLength")
    if isinstance(min_len, int) and min_len > len(text):
        want = min(min_len, 1000)  # the copies made for the length, never minLength's own
        text = (text * (want // len(text) + 1))[:want]
    if isinstance(max_len, int) and not isinstance(max_len, bool) and 0 <= max_len < len(text):
        text = text[:max_len]
    return text


def fits_pattern(text: str, pattern: str) -> bool:
    """Whether `text` matches `pattern`, where that can be checked safely (else True)."""
    if len(text) > VERIFY_UP_TO:
        return False  # not run on long text (pattern.VERIFY_UP_TO): made from the pattern instead
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return True  # a pattern Python cannot read: nothing to meet
    # Not run where it could backtrack for ever (`^(a+)+$`): made from the pattern instead.
    return safe_search(pattern, text) is True


def _number(schema: dict[str, Any], zero: float, *, integer: bool) -> Any:
    """The lowest value its bounds and `multipleOf` allow (else `zero`), or below an upper
    bound the highest. A bound is exclusive as 3.1 writes it (`exclusiveMinimum: 5`) or as
    3.0 and Swagger 2.0 do (`minimum: 5, exclusiveMinimum: true`)."""

    def bound(name: str, flag: str) -> tuple[float | None, bool]:
        exclusive, value = schema.get(flag), schema.get(name)
        if _finite(exclusive):
            return exclusive, True
        return (value, exclusive is True) if _finite(value) else (None, False)

    low, low_open = bound("minimum", "exclusiveMinimum")
    high, high_open = bound("maximum", "exclusiveMaximum")
    raw_step: Any = schema.get("multipleOf")
    step: float | None = raw_step if _finite(raw_step) and raw_step > 0 else None
    value: float = zero
    if low is not None:
        value = low + 1 if low_open else low
        if step:
            value = _on_step(value, step, up=True, past=low if low_open else None)
    elif step:
        value = _on_step(value, step, up=True, past=None)
    if high is not None and (value > high or (high_open and value >= high)):
        value = high - 1 if high_open else high
        if step:
            value = _on_step(value, step, up=False, past=high if high_open else None)
    if integer and -(2**63) <= value < 2**63:
        return int(value)
    return value  # past 64 bits an integer stays a JSON number (1e300), which orjson writes


def _finite(value: Any) -> bool:
    """A number a bound can use: YAML's .inf and .nan (or 1e999) bound nothing."""
    return is_number(value) and math.isfinite(value)


def below_maximum(value: float, schema: dict[str, Any]) -> bool:
    """Whether `value` keeps to the upper bound, 3.1's `exclusiveMaximum: 5` or 3.0's
    `maximum: 5, exclusiveMaximum: true`."""
    high: Any = schema.get("maximum")
    exclusive: Any = schema.get("exclusiveMaximum")
    if is_number(exclusive):
        return value < exclusive and (not is_number(high) or value <= high)
    if not is_number(high):
        return True
    return value < high if exclusive is True else value <= high


def _on_step(value: float, step: float, *, up: bool, past: float | None) -> float:
    """The multiple of `step` nearest `value` upward (or downward), not equal to `past`;
    `value` itself where the quotient overflows (a step of 1e-320 under 0.1)."""
    if not math.isfinite(value / step):
        return value
    n = math.ceil(round(value / step, 9)) if up else math.floor(round(value / step, 9))
    result = round(n * step, 9)
    if past is not None and result == past:
        result = round((n + 1 if up else n - 1) * step, 9)
    return int(result) if float(result).is_integer() and isinstance(step, int) else result
