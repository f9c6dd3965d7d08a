"""The shared corpus's MANIFEST.md read as data: root documents and their expected counts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from apis.openapi import ParsedSpec, load
from apis.openapi.bundle import FolderBundle, SingleFile
from tests.conftest import SHARED_SPECS


@dataclass(frozen=True)
class CorpusDoc:
    rel: str  # path under the corpus, e.g. real-world/stripe-spec3.yaml
    operations: int
    bundle: bool  # other files are $ref'd: import the folder, not the file

    @property
    def id(self) -> str:
        return self.rel


def manifest_documents(specs: Path) -> list[CorpusDoc]:
    """Every root document of MANIFEST.md's tables (fragments excluded)."""
    docs = []
    columns: list[str] = []
    for line in (specs / "MANIFEST.md").read_text().splitlines():
        if not line.startswith("|"):
            columns = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "File":
            columns = cells
            continue
        if not columns or set(cells[0]) <= {"-", " "}:
            continue
        row = dict(zip(columns, cells, strict=False))
        ops = row.get("Operations", "-")
        if not ops.isdigit():
            continue  # a fragment of a multi-file example
        notes = row.get("Notable features", "")
        docs.append(
            CorpusDoc(
                rel=row["File"].strip("`"), operations=int(ops), bundle="external $refs" in notes
            )
        )
    return docs


def bundle_folder(root: Path) -> Path:
    """The folder to import for a multi-file document: the root's folder, or its parent when
    the fragments sit beside it (petstore-separate keeps them in ../common)."""
    folder = root.parent
    if folder.name == "spec" and (folder.parent / "common").is_dir():
        return folder.parent
    return folder


@cache
def parsed(rel: str, bundle: bool) -> ParsedSpec:
    """A corpus document parsed once per test process (modules share it)."""
    root = SHARED_SPECS / rel
    if bundle:
        folder = bundle_folder(root)
        return load(FolderBundle(folder, root.relative_to(folder).as_posix()))
    return load(SingleFile(root.read_bytes(), root.name))
