"""An upload handler that holds each file in memory, never in a temporary file.

Django's own handlers spool a request over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) to temporary
files: where the temporary folder is read-only, missing or full (a container without its
/tmp tmpfs, a full disk), such an upload was a 500. The portal's uploads are capped while
they are read (a spec by APIS_MAX_SPEC_BYTES, the console's files by their own caps) and
read whole into memory afterwards anyway, so they need no disk: a subclass checks its cap in
`receive_data_chunk` and then calls this one's.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers


class InMemoryUploads(FileUploadHandler):
    """First in the handler chain; the handlers after it never see a file."""

    file: io.BytesIO | None = None

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file = io.BytesIO()
        raise StopFutureHandlers  # the temporary-file handler would open its file here

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        assert self.file is not None
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if self.file is None:
            return None
        self.file.seek(0)
        return InMemoryUploadedFile(
            file=self.file,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
