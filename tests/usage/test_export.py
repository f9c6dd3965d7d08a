"""usage/export.py: CSV cells a spreadsheet would run as formulas are made inert."""

from __future__ import annotations

import pytest

from usage.export import safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("getPet", "getPet"),
        ("Ada's app", "Ada's app"),
        (1234, 1234),
        (0.25, 0.25),
    ],
)
def test_formula_cells_get_an_apostrophe(value: object, written: object) -> None:
    assert safe_cell(value) == written


@pytest.mark.parametrize(
    "value", [" =1+1", "  @SUM(A1:A9)", '\n=HYPERLINK("x")', "\u00a0+1", " \t-2"]
)
def test_a_formula_behind_leading_spaces_is_made_inert_too(value: str) -> None:
    # Spreadsheets that trim spaces on import (Google Sheets does by default, Calc when
    # asked) would read what follows as a formula: an operation id from a spec can begin so.
    assert safe_cell(value) == "'" + value
