"""HS 2022 nomenclature: loaded in full; validation as listings use it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.customs import hs
from marketplace.customs.models import HsCode


def test_the_whole_edition_is_loaded(session: Session) -> None:
    counts = dict(session.execute(select(HsCode.level, func.count()).group_by(HsCode.level)).all())
    assert counts == {2: 97, 4: 1229, 6: 5613}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("090210", "090210"),
        ("0902.10", "090210"),
        ("0902 10 00", "09021000"),
        ("5007.20.1900", "5007201900"),
    ],
)
def test_real_subheadings_are_normalized_and_extensions_kept(
    session: Session, raw: str, expected: str
) -> None:
    assert hs.validate(session, raw) == expected


@pytest.mark.parametrize(
    "raw", ["0902", "09021", "12345678901", "09.02.1x", "", "０９０２１０", "090299"]
)
def test_malformed_or_unknown_codes_are_refused(session: Session, raw: str) -> None:
    with pytest.raises(hs.HsCodeInvalid) as error:
        hs.validate(session, raw)
    assert error.value.error_code == "hs_code_invalid" and "hs_code" in error.value.errors


def test_lookup_describes_without_padding(session: Session) -> None:
    found = hs.lookup(session, "0902.10")
    assert found.valid and found.level == 6 and "Tea, green" in (found.description or "")
    assert hs.lookup(session, "090299").valid is False
    assert hs.lookup(session, "0902101000").code == "0902101000"


@pytest.mark.parametrize("raw", ["999999", "9999.99.00", "980100", "9903030100"])
def test_placeholders_and_the_national_chapters_98_and_99_are_refused(
    session: Session, raw: str
) -> None:
    # 999999 is in the nomenclature file (UN Comtrade's "not specified according to kind"), but
    # it names no goods; 98 and 99 are national special provisions (e.g. US 9903.03.01).
    assert session.get(HsCode, "999999") is not None
    with pytest.raises(hs.HsCodeInvalid) as error:
        hs.validate(session, raw)
    assert error.value.error_code == "hs_code_invalid"
    with pytest.raises(hs.HsCodeInvalid):
        hs.validate(session, raw, hs.subheadings_in(session, [raw]))
    assert hs.lookup(session, raw).valid is False
