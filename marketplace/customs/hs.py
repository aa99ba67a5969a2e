"""HS nomenclature: loading the shipped edition and validating the codes sellers give.

The first six digits are the internationally agreed subheading and must exist in the edition;
digits 7-10 are national tariff extensions, kept as given and never invented by padding.
Chapters 98 and 99 are reserved for national use (special provisions such as the US Section 301
and 122 headings) and the nomenclature file's 99/9999/999999 ("commodities not specified according
to kind") is a trade-statistics placeholder: none of them describes goods, so none is accepted.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from marketplace.customs.models import HsCode
from marketplace.errors import Invalid
from marketplace.i18n import _

EDITION = "HS2022"
RESERVED_CHAPTERS = frozenset({"98", "99"})
DATA_DIR = Path(__file__).resolve().parent / "data" / "hs2022"
_SEPARATORS = re.compile(r"[\s.]")


class HsCodeInvalid(Invalid):
    code = "hs_code_invalid"
    default_detail = _("This is not a valid HS code.")


@dataclass(frozen=True)
class HsLookup:
    code: str
    valid: bool
    level: int | None
    description: str | None


def load_nomenclature(session: Session) -> int:
    """Replace the stored edition with the shipped file when their sizes differ; returns rows."""
    with (DATA_DIR / "harmonized-system.csv").open(encoding="utf-8-sig") as handle:
        rows = [
            {
                "code": row["hscode"],
                "level": int(row["level"]),
                "description": row["description"],
                "parent": None if row["parent"] == "TOTAL" else row["parent"],
                "section": row["section"],
                "edition": EDITION,
            }
            for row in csv.DictReader(handle)
            if row["hscode"] != "TOTAL"  # the file's grand-total line is not a code
        ]
    stored = session.scalar(
        select(func.count()).select_from(HsCode).where(HsCode.edition == EDITION)
    )
    if stored == len(rows):
        return stored
    session.execute(delete(HsCode))
    session.execute(insert(HsCode), rows)
    return len(rows)


def normalize(raw: str) -> str:
    """'0902.10 00' -> '09021000'; raises HsCodeInvalid for anything not 6-10 digits."""
    code = _SEPARATORS.sub("", raw or "")
    if not code.isascii() or not code.isdigit() or not 6 <= len(code) <= 10:
        raise HsCodeInvalid(
            _("An HS code has 6 to 10 digits (dots and spaces are allowed)."),
            errors={"hs_code": [_("An HS code has 6 to 10 digits (dots and spaces are allowed).")]},
        )
    return code


# Subheadings read from rows of this process's EDITION: an edition never changes, so they stay
# valid (a new edition is a new EDITION, shipped with new code), and a checkout of listings
# seen before reads no HS codes. Codes not found, or found in another edition's rows (the table
# not yet reloaded), are read again each time.
_in_edition: set[str] = set()


def subheadings_in(session: Session, raws: Iterable[str]) -> set[str]:
    """Which of the codes' six-digit subheadings exist, in one query (for `validate`'s `known`)."""
    wanted = set()
    for raw in raws:
        try:
            wanted.add(normalize(raw)[:6])
        except HsCodeInvalid:
            continue  # validate reports it
    missing = wanted - _in_edition
    if not missing:
        return wanted
    found = set()
    for code, edition in session.execute(
        select(HsCode.code, HsCode.edition).where(HsCode.code.in_(missing), HsCode.level == 6)
    ):
        found.add(code)
        if edition == EDITION:
            _in_edition.add(code)
    return (wanted & _in_edition) | found


class BulkCheck:
    """`validate` for many codes: every subheading (about 5,600) read once, on the first code.

    A CSV import of 20,000 different codes then costs one query instead of 20,000.
    """

    def __init__(self) -> None:
        self.known: set[str] = set()

    def __call__(self, session: Session, raw: str) -> str:
        if not self.known:
            self.known.update(session.scalars(select(HsCode.code).where(HsCode.level == 6)))
        return validate(session, raw, self.known)


def validate(session: Session, raw: str, known: Collection[str] | None = None) -> str:
    """The normalized code if its first six digits are a real subheading of the edition.

    `known` (from `subheadings_in`) saves the query when many codes are checked at once.
    """
    code = normalize(raw)
    if code[:2] in RESERVED_CHAPTERS:
        exists = None
    elif known is not None:
        exists = code[:6] if code[:6] in known else None
    else:
        exists = session.scalar(
            select(HsCode.code).where(HsCode.code == code[:6], HsCode.level == 6)
        )
    if exists is None:
        message = _(
            "%(code)s is not a subheading of the Harmonized System (%(edition)s).",
            code=code[:6],
            edition=EDITION,
        )
        raise HsCodeInvalid(message, errors={"hs_code": [message]})
    return code


def lookup(session: Session, raw: str) -> HsLookup:
    """What a code means: its subheading's description, or valid=False."""
    code = normalize(raw)
    entry = None if code[:2] in RESERVED_CHAPTERS else session.get(HsCode, code[:6])
    if entry is None or entry.level != 6:
        return HsLookup(code=code, valid=False, level=None, description=None)
    return HsLookup(code=code, valid=True, level=len(code), description=entry.description)
