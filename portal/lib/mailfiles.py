"""The dev run's e-mails as files (settings.MAILERS without EMAIL_HOST): Django's file backend,
with each message written as a person reads it in an editor.

Python's e-mail policy folds at 78 characters, and a body line longer than that is sent
quoted-printable: a link to a subscription came out as `http://127.0.0.1:8000/prod=` and
`ucts/subscriptions/...` on the next line. Lines may be as long as RFC 5322 allows (998), so
the body is 7bit (or 8bit UTF-8) text as written. SMTP delivery keeps Django's default.
"""

from __future__ import annotations

import email.policy
from typing import Any

from django.core.mail.backends import filebased

READABLE = email.policy.default.clone(max_line_length=998)


class EmailBackend(filebased.EmailBackend):
    def write_message(self, message: Any) -> None:
        stream: Any = self.stream  # the parent opens the file in binary mode ("ab")
        stream.write(message.message(policy=READABLE).as_bytes() + b"\n")
        stream.write(b"-" * 79)
        stream.write(b"\n")
