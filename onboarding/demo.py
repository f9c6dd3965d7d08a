"""Demo data for `make run` (called by `manage.py seed_demo`): the onboarding API's own
document in the catalog, so its reference pages are the portal's own.

Idempotent (replaces the previous import). Outside the demo an operator lists it the same way:
`manage.py importspec onboarding/openapi.yaml --slug portal-api --publish`.
"""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.core.management import call_command

from onboarding.views import DOCUMENT

SLUG = "portal-api"


def seed(stdout: TextIO) -> None:
    call_command(
        "importspec", str(DOCUMENT), slug=SLUG, publish=True, replace=True, stdout=stdout,
    )  # fmt: skip
    site = settings.SITE_URL
    stdout.write(
        "\n  Onboarding API\n"
        f"    {site}/api/v1/ (bearer token with the portal scope); reference: {site}/apis/portal-api/\n"
        f"    a token: register a machine application at {site}/applications/new/, then\n"
        '             curl -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials '
        f"-d scope=portal {site}/idp/token/\n"
    )
