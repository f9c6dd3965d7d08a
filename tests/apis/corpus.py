"""The shared corpus's MANIFEST.md read as data: root documents and their expected counts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
