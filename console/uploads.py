"""The console's cap on uploaded files, applied while the request body is read.

The console sends at most MAX_UPLOAD_BYTES a file; without this handler Django would write an
upload of any size to a temporary file before the form could refuse it.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
_TOO_LARGE = "_console_upload_too_large"


class UploadCap(FileUploadHandler):
    """First in the handler chain: passes each file on until it passes the cap, then stops
    reading uploads (the rest of the body is read and dropped, never stored)."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > MAX_UPLOAD_BYTES:
            if self.request is not None:
                setattr(self.request, _TOO_LARGE, self.file_name or self.field_name)
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler makes the file


def too_large(request: HttpRequest) -> str | None:
    """The name of the upload the cap stopped, if it stopped one."""
    return getattr(request, _TOO_LARGE, None)
