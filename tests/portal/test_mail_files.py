"""The dev run's e-mails, one file each in .mail/ (README: "each one ... is written as a
file"): read by a person in an editor, so a link must be whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.mail import send_mail

LINK = "http://127.0.0.1:8000/products/subscriptions/47f9e6a6-1219-44da-a01a-db14937256a3/"


def test_a_mail_file_keeps_each_link_whole(settings: Any, tmp_path: Path) -> None:
    """Python's quoted-printable split every line over 78 characters with '=' and a line break
    ('http://127.0.0.1:8000/prod=' then 'ucts/subscriptions/...'): no link could be followed."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "portal.lib.mailfiles.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    body = f"Your subscription to Starter is active. Your keys: {LINK}\nRéponse: déjà vu\n"
    send_mail("[API Portal] Your subscription", body, None, ["ada@example.com"])
    (written,) = tmp_path.iterdir()
    text = written.read_text(encoding="utf-8")
    assert f"Your keys: {LINK}\n" in text
    assert "Réponse: déjà vu" in text
    assert "=\n" not in text
    assert "Subject: [API Portal] Your subscription" in text
