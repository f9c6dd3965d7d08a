"""The console panel for every operation of real specs: forms, samples and schema checks
never fail on what real APIs publish (form bodies, multipart, nullable, 3.1 type arrays)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import RequestFactory

from apis.documents import load_document
from apis.models import Api, Operation
from console import panel, validation

pytestmark = pytest.mark.corpus

SPECS = ["real-world/twilio-api-v2010.json", "real-world/openai.yaml", "real-world/discourse.json"]


@pytest.mark.parametrize("name", SPECS)
def test_every_operation_gets_a_working_panel(
    name: str, shared_specs: Path, db: None, user: Any
) -> None:
    slug = name.split("/")[-1].split(".")[0].lower()
    call_command(
        "importspec", str(shared_specs / name), slug=slug, publish=True, stdout=io.StringIO()
    )
    api = Api.objects.get(slug=slug)
    version = api.default_version
    assert version is not None
    doc = load_document(version.pk)
    request = RequestFactory().get("/")
    request.user = user
    request.session = SessionStore()
    started = time.monotonic()
    operations = list(Operation.objects.filter(version=version))
    for operation in operations:
        context = panel.build(
            api=api, version=version, operation=operation, user=user, session=request.session
        )
        html = render_to_string("console/panel.html", {"console": context, "request": request})
        if operation.kind == Operation.KIND_OPERATION:
            assert 'id="console-form"' in html, operation.slug
        for editor in context.get("editors", []):
            # A JSON body pre-filled from the spec's example or a generated sample is checked
            # against its schema without errors from the checker itself.
            problems = validation.check_request_body(
                doc, version.pk, operation.model, editor.media_type, editor.text
            )
            assert not any("could not be used" in p for p in problems), (operation.slug, problems)
    per_operation = (time.monotonic() - started) / max(len(operations), 1)
    assert per_operation < 0.25, f"{per_operation:.3f} s per operation"
