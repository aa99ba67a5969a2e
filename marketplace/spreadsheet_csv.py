"""CSV that is safe to open in a spreadsheet: every cell quoted, no cell that runs as a formula.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, or
their full-width forms, which some locales accept) as a formula (CSV injection, OWASP). Quoting
alone does not help: Excel in locales whose list separator is `;` (ru, kk, tr, de) splits a line
on `;` whatever the quotes say, so `Tea;=cmd|' /C calc'!A0` becomes a cell of its own. So a
formula start gets a `'` before it at the start of a cell *and* after any character a
spreadsheet may split on, and every cell is quoted besides.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = "=+\\-@\t\r\uff1d\uff0b\uff0d\uff20"
# A formula start at the beginning of the cell, or after a separator (and any spaces).
_FORMULA = re.compile(f"(^|[,;|\t\r\n][ ]*)(?=[{FORMULA_STARTS}])")


def escape_cell(value: Any) -> str:
    """The cell's text with a `'` before every formula start a spreadsheet could see."""
    text = "" if value is None else str(value)
    return _FORMULA.sub(r"\1'", text)


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """RFC 4180 text, header first, CRLF line ends, every cell quoted and escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return buffer.getvalue()
