"""The console's caps on uploaded files, applied while the request body is read.

The console sends at most MAX_UPLOAD_BYTES a file and MAX_UPLOADS_TOTAL for all the files of
one call; without this handler Django would write uploads of any size (up to
DATA_UPLOAD_MAX_NUMBER_FILES of them) to temporary files before the form could refuse them.
What it reads is held in memory (portal/lib/uploads.py): the files need no temporary folder.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import StopUpload
from django.http import HttpRequest

from portal.lib.uploads import InMemoryUploads

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOADS_TOTAL = 8 * 1024 * 1024
_REFUSED = "_console_upload_refused"


class UploadCap(InMemoryUploads):
    """First in the handler chain: keeps each file in memory until it passes a cap, then
    stops reading uploads (the rest of the body is read and dropped, never stored)."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0  # of this file
        self.total = 0  # of every file so far

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        self.total += len(raw_data)
        if self.received > MAX_UPLOAD_BYTES:
            self._refuse(
                f"{self.file_name or self.field_name} is larger than {_mib(MAX_UPLOAD_BYTES)}"
            )
        if self.total > MAX_UPLOADS_TOTAL:
            self._refuse(f"The files together are larger than {_mib(MAX_UPLOADS_TOTAL)}")
        return super().receive_data_chunk(raw_data, start)

    def _refuse(self, why: str) -> None:
        if self.request is not None:
            setattr(self.request, _REFUSED, why)
        raise StopUpload(connection_reset=False)


def refusal(request: HttpRequest) -> str | None:
    """Why the caps stopped reading the uploads, if they did."""
    return getattr(request, _REFUSED, None)


def _mib(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"
