"""Names people give things (a subscription, an application) that others then read.

They go into administrators' e-mails, the provider's consent page and admin lists as plain
text. A line break there starts a line of the writer's choosing (a fake "approve here" link
above the real one); a direction control (U+202A-U+202E, U+2066-U+2069) makes a name read as
another ("Portal Console" followed by reversed text). Neither has a use in a name.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def name_problem(value: str) -> str:
    """Why `value` cannot be a name, or "" when it can."""
    found = _REFUSED.search(value)
    if found is None:
        return ""
    if found[0] in "\r\n\u2028\u2029":
        return "A name cannot hold a line break."
    return "A name cannot hold a control or text-direction character."


def validate_name(value: str) -> None:
    """name_problem as a model field validator (the admin's forms run it)."""
    if problem := name_problem(value):
        raise ValidationError(problem, code="name")
