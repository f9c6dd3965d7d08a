"""Where the files of an import come from: one document, a folder, or a zip.

Every read goes through `Bundle.read(relative_path)`, which only answers for files inside
the bundle: `..`, absolute paths and symlinks that leave the folder are refused before any
file is opened, so a `$ref` can never make the importer read outside what was uploaded. A zip
holding a symbolic link is refused whole: its bytes are a path, never a file to read.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import stat
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from apis.openapi.errors import LimitExceeded, RefError, SpecError, TooLarge
from apis.openapi.parse import (
    as_utf8,
    check_size,
    max_bundle_files,
    max_bytes,
    max_seconds,
    max_zip_ratio,
    parse_bytes,
)

SPEC_SUFFIXES = (".json", ".yaml", ".yml")
# A root document has `openapi` or `swagger` as a top-level key: a YAML line starting with
# it, or the JSON member; candidates are then parsed to confirm.
_ROOT_HINT = re.compile(rb'^["\']?(?:openapi|swagger)["\']?\s*:|"(?:openapi|swagger)"\s*:', re.M)
# A zip starts with a file header, or, holding no file, with its end-of-directory record.
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# What zipfile raises on damaged or hostile archives (bad offsets, unknown versions, CRCs).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    OverflowError,
)


class Bundle:
    """The files of one import. `root` is the relative path of the root document."""

    kind = "file"
    multi_file = False  # may a `$ref` name another file?
    scope = "the bundle"  # what a `$ref` may not leave, in words
    escape_hint = ""  # what to do instead, when a `$ref` climbs out of it
    root: str = ""
    name: str = ""

    def __init__(self) -> None:
        # One clock for the whole import, from opening the files to the last `$ref`.
        self.deadline = time.monotonic() + max_seconds()
        self._read_total = 0
        self._parsed: dict[str, Any] = {}
        self.formats: dict[str, str] = {}
        self.duplicates: list[str] = []  # keys written twice, per file (parse.Parsed)

    def exists(self, rel: str) -> bool:
        raise NotImplementedError

    def check_deadline(self, where: str = "") -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"the import took longer than {max_seconds():.0f} s "
                "(setting APIS_MAX_IMPORT_SECONDS)",
                source=where or self.name,
                rule="time-limit",
            )

    def _read(self, rel: str) -> bytes:
        raise NotImplementedError

    def read(self, rel: str) -> bytes:
        data = self._read(rel)
        self._read_total += len(data)
        if self._read_total > max_bytes():
            raise TooLarge(
                f"the bundle's files add up to more than {max_bytes():,} bytes "
                "(setting APIS_MAX_SPEC_BYTES)",
                source=self.name,
                rule="size-limit",
            )
        return data

    def document(self, rel: str) -> Any:
        """The parsed content of one file of the bundle, parsed once."""
        if rel not in self._parsed:
            data = self.read(rel)
            if rel != self.root and _is_text_file(rel):
                # A $ref to a code sample or a Markdown description: its text, as Redocly's
                # bundler reads it (parsed as YAML, a C# file's lines ran into one).
                self._parsed[rel] = _text(data, rel)
                return self._parsed[rel]
            parsed = parse_bytes(data, rel)
            self._parsed[rel] = parsed.data
            self.formats[rel] = parsed.format
            self.duplicates.extend(f"{rel}: {d}" for d in parsed.duplicates)
        return self._parsed[rel]

    @property
    def files_read(self) -> list[str]:
        return list(self._parsed)

    def original(self) -> bytes:
        """The bytes kept as the version's original."""
        raise NotImplementedError


def _is_text_file(rel: str) -> bool:
    """A file with a suffix other than JSON's or YAML's (`get.cs`, `intro.md`)."""
    name = posixpath.basename(rel).lower()
    return "." in name.lstrip(".") and not name.endswith(SPEC_SUFFIXES)


def _text(data: bytes, rel: str) -> str:
    try:
        text = as_utf8(data, rel).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{rel} is not UTF-8 text (byte {exc.start})", source=rel, rule="encoding"
        ) from None
    if "\x00" in text:  # valid UTF-8, but no PostgreSQL text can hold it
        raise SpecError(
            f"{rel} holds a NUL character, which cannot be stored", source=rel, rule="nul"
        )
    return text


class SingleFile(Bundle):
    scope = "the imported document"

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__()
        check_size(len(data), name)
        self.data = data
        self.name = name
        self.root = posixpath.basename(name.replace("\\", "/")) or "document"

    def exists(self, rel: str) -> bool:
        return rel == self.root

    def _read(self, rel: str) -> bytes:
        return self.data

    def original(self) -> bytes:
        return self.data


def _safe_relative(name: str) -> str | None:
    """A normalised relative POSIX path, or None when it is absolute or climbs out."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    norm = posixpath.normpath(name)
    if norm == "." or norm == ".." or norm.startswith("../"):
        return None
    return norm


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name. Without the flag that says its name is UTF-8, zipfile reads it as
    cp437, as the zip format says; Info-ZIP's `zip` 3.0 (Linux distributions' `zip -r`)
    writes UTF-8 names without that flag, so `schemas/用户.yaml` read as `schemas/τö¿µê╖.yaml`
    and the `$ref` naming it found nothing. Such a name that is valid UTF-8 is read so."""
    name = info.filename
    if info.flag_bits & 0x800 or name.isascii():
        return name
    try:
        return name.encode("cp437").decode("utf-8")
    except UnicodeError:
        return name


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    """A zip entry stored as a symbolic link: S_IFLNK in the Unix mode that the high 16 bits
    of `external_attr` hold. Checked whatever `create_system` says, as unzip tools differ."""
    return stat.S_ISLNK(info.external_attr >> 16)


def _names_a_version(doc: dict[str, Any]) -> bool:
    """A root document: its `openapi` or `swagger` key holds a version (`3.1.0`, or `2.0`
    unquoted), not a section of settings, as the `openapi:` of Redocly's redocly.yaml does
    (the reference docs' options), which made a repository's folder or zip have two roots."""
    return any(
        key in doc and not isinstance(doc[key], dict | list) for key in ("openapi", "swagger")
    )


class _MultiFile(Bundle):
    multi_file = True
    names: list[str]

    def _choose_root(self, root: str | None) -> str:
        if root:
            # Written as a path in the bundle from its top (`/api/openapi.yaml`) it names the
            # same file; `..` still climbs out and is refused.
            rel = _safe_relative(root.replace("\\", "/").lstrip("/"))
            # `zip -r api.zip api/` puts every file under `api/`; the publisher names the
            # root as it sits in that folder. One such file is the one meant.
            under = [n for n in self.names if n.endswith("/" + rel)] if rel else []
            if rel is not None and not self.exists(rel) and len(under) == 1:
                return under[0]
            if rel is None or not self.exists(rel):
                meant = f" ({' or '.join(under[:5])}?)" if under else ""
                raise SpecError(
                    f"the root file {root!r} is not in the bundle{meant}",
                    source=self.name,
                    rule="root",
                )
            return rel
        candidates = []
        broken: list[SpecError] = []
        for rel in self.names:
            if not rel.lower().endswith(SPEC_SUFFIXES):
                continue
            self.check_deadline(rel)
            data = self._read(rel)
            if not _ROOT_HINT.search(data):
                continue
            try:
                parsed = parse_bytes(data, rel)
            except SpecError as exc:
                broken.append(exc)
                continue
            doc = parsed.data
            if isinstance(doc, dict) and _names_a_version(doc):
                candidates.append(rel)
                self._parsed[rel] = doc
                self.duplicates.extend(f"{rel}: {d}" for d in parsed.duplicates)
        if not candidates and broken:
            raise broken[0]  # the file that looked like the root does not parse
        if not candidates:
            raise SpecError(
                "no root document found: no file has a top-level `openapi` or `swagger` key",
                source=self.name,
                rule="root",
            )
        if len(candidates) > 1:
            shown = ", ".join(sorted(candidates)[:10])
            # No flag or field named here: the command says --root, the admin its Root field.
            raise SpecError(
                f"several files look like root documents ({shown}); name the root document",
                source=self.name,
                rule="root",
            )
        return candidates[0]

    def _too_many(self) -> LimitExceeded:
        return LimitExceeded(
            f"the bundle has more than {max_bundle_files():,} files "
            "(setting APIS_MAX_BUNDLE_FILES)",
            source=self.name,
            rule="file-limit",
        )


class FolderBundle(_MultiFile):
    kind = "folder"

    def __init__(self, folder: Path, root: str | None = None) -> None:
        super().__init__()
        self.folder = folder.resolve()
        self.name = folder.name
        limit = max_bundle_files()
        names: list[str] = []
        for dirpath, dirnames, filenames in os.walk(self.folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for filename in sorted(filenames):
                if filename.startswith("."):
                    continue
                full = os.path.join(dirpath, filename)
                rel = Path(os.path.relpath(full, self.folder)).as_posix()
                if _inside(self.folder, rel) is None:
                    # A link out of the folder, a broken link, a pipe: never read, and not
                    # in the bundle (a $ref to it finds no such file), so a stray one no
                    # $ref names does not refuse the whole folder.
                    continue
                names.append(rel)
                if len(names) > limit:
                    raise self._too_many()
        self.names = names
        self._names = set(names)
        self.root = self._choose_root(root)

    def exists(self, rel: str) -> bool:
        return rel in self._names

    def _read(self, rel: str) -> bytes:
        if rel not in self._names:
            raise RefError(f"{rel} is not a file inside the bundle", source=self.name)
        return _read_inside(self.folder, rel, self.name)

    def original(self) -> bytes:
        return _zip_of(self, sorted(self._parsed))


def _inside(folder: Path, rel: str) -> str | None:
    """The real path of `rel` when it is a file in `folder` (after symlinks), else None."""
    if "\x00" in rel:
        return None  # no file has one; os.path would raise ValueError
    full = os.path.realpath(os.path.join(folder, rel))
    return full if full.startswith(str(folder) + os.sep) and os.path.isfile(full) else None


def _read_inside(folder: Path, rel: str, name: str) -> bytes:
    full = _inside(folder, rel)
    if full is None:
        raise RefError(f"{rel} is not a file inside the bundle", source=name)
    return _read_file(full, rel)


def _read_file(full: str, rel: str) -> bytes:
    with open(full, "rb") as fh:
        data = fh.read(max_bytes() + 1)
    check_size(len(data), rel)
    return data


def _zip_of(bundle: Bundle, names: list[str]) -> bytes:
    """A zip of the files an import used, so the original can be downloaded."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for rel in names:
            zf.writestr(rel, bundle._read(rel))
    return buffer.getvalue()


class _Siblings(Bundle):
    """A root document whose `$ref`s may name files beside it, read when named (never a
    listing of its folder, which may be a home directory or a web server). Alone, it imports
    as the single file it is; with others, as a bundle of the files used."""

    multi_file = True

    def __init__(self, name: str, data: bytes) -> None:
        super().__init__()
        check_size(len(data), name)
        self.root = self.name = name
        self.data = data
        self._found: dict[str, bytes | None] = {}

    def _sibling(self, rel: str) -> bytes | None:
        """The bytes of the file `rel` beside the root, or None when there is none."""
        raise NotImplementedError

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "folder" if len(self._parsed) > 1 else "file"

    def exists(self, rel: str) -> bool:
        if rel == self.root:
            return True
        if any(part.startswith(".") for part in rel.split("/")):
            return False  # hidden files stay out, as in a folder bundle
        if rel not in self._found:
            if len(self._found) >= max_bundle_files():
                raise LimitExceeded(
                    f"the document names more than {max_bundle_files():,} files "
                    "(setting APIS_MAX_BUNDLE_FILES)",
                    source=self.name,
                    rule="file-limit",
                )
            self.check_deadline(rel)
            self._found[rel] = self._sibling(rel)
        return self._found[rel] is not None

    def _read(self, rel: str) -> bytes:
        if rel == self.root:
            return self.data
        data = self._found.get(rel) if self.exists(rel) else None
        if data is None:
            raise RefError(f"{rel} is not a file beside {self.root}", source=self.name)
        return data

    def original(self) -> bytes:
        if len(self._parsed) <= 1:
            return self.data
        return _zip_of(self, sorted(self._parsed))


class FileWithSiblings(_Siblings):
    """A local file (`importspec api/openapi.yaml`): siblings come from its folder, never from
    outside it nor through a symlink out."""

    def __init__(self, path: Path, data: bytes) -> None:
        super().__init__(path.name, data)
        self.folder = path.parent.resolve()
        # A spec from elsewhere must not pull /etc/passwd into a published page: a layout
        # that climbs out (`../common/Error.json`) is imported as the folder holding it all.
        self.scope = f"the folder of {path.name}"
        self.escape_hint = (
            f"; import the folder that holds every file (with --root naming {path.name} inside it)"
        )

    def _sibling(self, rel: str) -> bytes | None:
        full = _inside(self.folder, rel)
        return None if full is None else _read_file(full, rel)


class UrlWithSiblings(_Siblings):
    """A document fetched from a URL: siblings are fetched from beside it, on the same
    origin, by `fetch` (the caller's outbound client, with its address rules and limits),
    which answers None for a file that is not there."""

    def __init__(self, url: str, data: bytes, fetch: Callable[[str], bytes | None]) -> None:
        path = urlsplit(url).path
        super().__init__(posixpath.basename(path) or "document", data)
        self.base = url
        self.fetch = fetch
        self.scope = f"the folder of {url}"

    def _sibling(self, rel: str) -> bytes | None:
        target = urljoin(self.base, quote(rel))
        here, there = urlsplit(self.base), urlsplit(target)
        if (here.scheme, here.netloc) != (there.scheme, there.netloc):
            return None
        return self.fetch(target)


class ZipBundle(_MultiFile):
    kind = "zip"

    def __init__(self, data: bytes, name: str, root: str | None = None) -> None:
        super().__init__()
        check_size(len(data), name)
        self.data = data
        self.name = name
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except ZIP_ERRORS as exc:
            raise SpecError(f"not a readable zip file: {exc}", source=name, rule="zip") from None
        if len(infos) > max_bundle_files():
            raise self._too_many()
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir():
                continue
            rel = _safe_relative(_member_name(info))
            if rel is None:
                raise SpecError(
                    f"the zip holds a file outside its folder: {info.filename!r}",
                    source=name,
                    rule="zip-path",
                )
            parts = rel.split("/")
            if parts[0] == "__MACOSX" or any(p.startswith(".") for p in parts):
                continue
            if _is_symlink(info):
                # Its bytes are the target's path, not a file: read as one, that text (say
                # `/etc/passwd`) became what a `$ref` named. Never followed, never read.
                raise SpecError(
                    f"the zip holds a symbolic link, {info.filename!r}; links are not "
                    "followed: zip the file itself (without `zip --symlinks`)",
                    source=name,
                    rule="zip-link",
                )
            if rel in self.members:
                # zipfile would silently answer with the last one; which file a `$ref`
                # reads must not depend on the order of entries.
                raise SpecError(
                    f"the zip holds {info.filename!r} twice (as {rel}); each file may appear once",
                    source=name,
                    rule="zip-duplicate",
                )
            self.members[rel] = info
        self._check_sizes()
        self.check_deadline()
        self.names = sorted(self.members)
        self.root = self._choose_root(root)

    def _check_sizes(self) -> None:
        """Refuse a zip bomb from its directory, before inflating anything (case 84).

        zipfile never yields more than a member's declared `file_size` (it stops there and
        checks the CRC), so the declared sizes bound the work: members that add up past
        APIS_MAX_SPEC_BYTES are refused here, and a member that inflates more than
        APIS_MAX_ZIP_RATIO times when it is about to be read (`_check_ratio`). A member
        nothing reads is never inflated: a repository's zip carries a site's favicon.ico
        (mostly zeros, 111 times) beside its spec, and that refused the whole bundle.
        """
        total = sum(info.file_size for info in self.members.values())
        if total > max_bytes():
            raise TooLarge(
                f"the zip's files add up to {total:,} bytes uncompressed, over the limit of "
                f"{max_bytes():,} bytes (setting APIS_MAX_SPEC_BYTES)",
                source=self.name,
                rule="size-limit",
            )

    def _check_ratio(self, rel: str, info: zipfile.ZipInfo) -> None:
        ratio = max_zip_ratio()
        if info.file_size > ratio * max(info.compress_size, 1) and info.file_size > 4096:
            raise TooLarge(
                f"{rel} inflates {info.file_size // max(info.compress_size, 1):,} times "
                f"({info.compress_size:,} to {info.file_size:,} bytes), over the limit "
                f"of {ratio} (setting APIS_MAX_ZIP_RATIO)",
                source=self.name,
                rule="zip-ratio",
            )

    def exists(self, rel: str) -> bool:
        return rel in self.members

    def _read(self, rel: str) -> bytes:
        info = self.members.get(rel)
        if info is None:
            raise RefError(f"{rel} is not a file inside the bundle", source=self.name)
        self._check_ratio(rel, info)
        limit = max_bytes()
        if info.file_size > limit:
            check_size(info.file_size, rel)
        chunks: list[bytes] = []
        size = 0
        try:
            with self.zip.open(info) as fh:
                # Read in chunks so the time limit holds while inflating, and never more
                # than one byte past the size limit.
                while size <= limit:
                    self.check_deadline(rel)
                    chunk = fh.read(min(1 << 20, limit + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
        except ZIP_ERRORS as exc:
            raise SpecError(
                f"cannot read {rel} from the zip: {exc}", source=self.name, rule="zip"
            ) from None
        check_size(size, rel)
        return b"".join(chunks)

    def original(self) -> bytes:
        return self.data


def bundle_for_path(path: Path, root: str | None = None) -> Bundle:
    """A bundle for a local file, zip file or folder (command line imports)."""
    if path.is_dir():
        return FolderBundle(path, root)
    with open(path, "rb") as fh:
        data = fh.read(max_bytes() + 1)
    bundle = bundle_for_bytes(data, path.name, root)
    if isinstance(bundle, SingleFile):
        return FileWithSiblings(path, data)
    return bundle


_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html[\s>]|head[\s>])", re.I)


def looks_like_html(data: bytes) -> bool:
    """An HTML page (a documentation site, a sign-in page), not a JSON or YAML document."""
    return bool(_HTML_START.match(data[:1024]))


def bundle_for_bytes(data: bytes, name: str, root: str | None = None) -> Bundle:
    if data.startswith(ZIP_MAGIC):
        return ZipBundle(data, name, root)
    if looks_like_html(data):
        # YAML would report a confusing syntax error somewhere inside the markup.
        raise SpecError(
            "this is an HTML page, not an OpenAPI document (JSON or YAML)",
            source=name,
            rule="html",
        )
    return SingleFile(data, name)
