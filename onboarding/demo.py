"""Demo data for `make run` (called by `manage.py seed_demo`): the onboarding API's own
document in the catalog, so its reference pages are the portal's own.

Idempotent (replaces the previous import). Outside the demo an operator lists it the same way:
`manage.py importspec onboarding/openapi.yaml --slug portal-api --publish`.
"""

from __future__ import annotations

from typing import TextIO

from django.core.management import call_command

from onboarding.views import DOCUMENT

SLUG = "portal-api"


def seed(stdout: TextIO) -> None:
    call_command(
        "importspec", str(DOCUMENT), slug=SLUG, publish=True, replace=True, stdout=stdout,
    )  # fmt: skip
    stdout.write(
        "\n  Onboarding API\n"
        "    /api/v1/ (bearer token with the portal scope); reference: /apis/portal-api/\n"
    )
