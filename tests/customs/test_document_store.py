"""Issued documents never change: corrections add versions; bundles and manifests for brokers."""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import time
import zipfile
from dataclasses import replace

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organisation, User
from marketplace.customs.declaration import Declaration
from marketplace.customs.documents.exports import (
    ManifestEntry,
    bundle,
    manifest_csv,
    manifest_rows,
)
from marketplace.customs.documents.store import (
    DocumentNotFound,
    current_documents,
    get_document,
    issue,
    issue_all,
    list_documents,
)
from marketplace.customs.models import CustomsDocument
from marketplace.db import new_id
from marketplace.orders.models import Order, Shipment
from marketplace.spreadsheet_csv import escape_cell
from tests.customs.factories import declaration, make_shipment
from tests.customs.pdf import pdf_text


def corrected(shipment: Declaration, hs_code: str) -> Declaration:
    """The seller fixes the first line's HS code."""
    return replace(
        shipment, items=(replace(shipment.items[0], hs_code=hs_code), *shipment.items[1:])
    )


def test_an_issued_document_is_stored_with_its_checksum_and_size(session: Session) -> None:
    shipment_id = make_shipment(session)
    document = issue(session, shipment_id, "commercial_invoice", "zh-Hans", declaration(3))
    assert (document.version, document.size) == (1, len(document.content))
    assert document.sha256 == hashlib.sha256(document.content).hexdigest()
    assert document.created_at.tzinfo is not None


def test_a_correction_is_version_two_and_version_one_is_unchanged(session: Session) -> None:
    shipment_id = make_shipment(session)
    original = declaration(3)
    first = issue(session, shipment_id, "cn22", "en", original)
    first_sha, first_bytes = first.sha256, first.content

    second = issue(session, shipment_id, "cn22", "en", corrected(original, "0902300000"))
    session.expire_all()

    assert second.version == 2 and second.sha256 != first_sha
    old = get_document(session, shipment_id, "cn22", "en", version=1)
    assert old.content == first_bytes
    assert hashlib.sha256(old.content).hexdigest() == old.sha256 == first_sha
    assert "0902300000" in pdf_text(get_document(session, shipment_id, "cn22", "en").content)
    assert "0902300000" not in pdf_text(old.content)


def test_issuing_the_same_declaration_again_adds_no_version(session: Session) -> None:
    shipment_id = make_shipment(session)
    first = issue(session, shipment_id, "packing_list", "en", declaration(2))
    again = issue(session, shipment_id, "packing_list", "en", declaration(2))
    assert again.id == first.id
    assert len(list_documents(session, shipment_id)) == 1


def test_a_stored_document_cannot_be_rewritten(session: Session) -> None:
    document = issue(session, make_shipment(session), "cn22", "en", declaration(1))
    document.content = b"%PDF-forged"
    with pytest.raises(RuntimeError, match="immutable"):
        session.flush()
    session.rollback()


def test_a_chinese_seller_gets_every_document_in_english_and_chinese(session: Session) -> None:
    shipment_id = make_shipment(session)
    issued = issue_all(session, shipment_id, declaration(20), "zh-Hans")
    assert sorted((d.kind, d.language) for d in issued) == [
        ("cn22", "en"),
        ("cn22", "zh-Hans"),
        ("commercial_invoice", "en"),
        ("commercial_invoice", "zh-Hans"),
        ("packing_list", "en"),
        ("packing_list", "zh-Hans"),
    ]


def test_an_english_speaking_seller_gets_english_documents_only(session: Session) -> None:
    issued = issue_all(session, make_shipment(session), declaration(2), "en-GB")
    assert {d.language for d in issued} == {"en"}
    assert len(issued) == 3


def test_a_correction_across_the_line_makes_the_cn23_current_and_keeps_the_cn22(
    session: Session,
) -> None:
    shipment_id = make_shipment(session)
    issue_all(session, shipment_id, declaration(2), "en")
    costly = declaration(2, unit="2000.00")
    assert costly.form == "CN23"
    issue_all(session, shipment_id, costly, "en")

    current = {(d.kind, d.version) for d in current_documents(session, shipment_id)}
    # The packing list shows no values, so it did not change and keeps its version.
    assert current == {("commercial_invoice", 2), ("packing_list", 1), ("cn23", 1)}
    assert ("cn22", 1) in {(d.kind, d.version) for d in list_documents(session, shipment_id)}


def test_a_document_that_does_not_exist_is_not_found(session: Session) -> None:
    shipment_id = make_shipment(session)
    issue(session, shipment_id, "cn22", "en", declaration(1))
    for kind, language, version, shipment in [
        ("cn23", "en", None, shipment_id),
        ("cn22", "zh-Hans", None, shipment_id),
        ("cn22", "en", 2, shipment_id),
        ("../../etc/passwd", "en", None, shipment_id),
        ("cn22", "en", None, new_id()),
    ]:
        with pytest.raises(DocumentNotFound):
            get_document(session, shipment, kind, language, version)


def test_the_bundle_holds_the_current_documents_and_their_checksums(session: Session) -> None:
    shipment_id = make_shipment(session)
    issue_all(session, shipment_id, declaration(2), "ar")
    documents = current_documents(session, shipment_id)
    archive = zipfile.ZipFile(io.BytesIO(bundle(documents)))
    names = archive.namelist()
    assert "cn22-ar-v1.pdf" in names and "commercial_invoice-en-v1.pdf" in names
    sums = archive.read("SHA256SUMS").decode()
    for document in documents:
        name = f"{document.kind}-{document.language}-v{document.version}.pdf"
        assert archive.read(name) == document.content
        assert f"{document.sha256}  {name}" in sums
    assert bundle(documents) == bundle(documents)


def test_the_manifest_has_one_row_per_item_of_every_shipment() -> None:
    entries = [
        ManifestEntry("s-1", declaration(3)),
        ManifestEntry("s-2", declaration(2, invoice_number="SR-2")),
    ]
    rows = manifest_rows(entries)
    assert len(rows) == 5
    assert [r["shipment_id"] for r in rows] == ["s-1"] * 3 + ["s-2"] * 2
    assert rows[0]["description_original"] == "西湖龙井绿茶 特级 250克"
    assert rows[0]["unit_value"] == "12.50" and rows[0]["currency"] == "CNY"
    parsed = list(csv.DictReader(io.StringIO(manifest_csv(rows))))
    assert [row["hs_code"] for row in parsed] == [row["hs_code"] for row in rows]
    assert parsed[3]["invoice_number"] == "SR-2"


@pytest.mark.parametrize(
    "dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "＝1+1"]
)
def test_manifest_cells_that_a_spreadsheet_would_run_are_escaped(dangerous: str) -> None:
    shipment = declaration(1)
    shipment = replace(shipment, items=(replace(shipment.items[0], description=dangerous),))
    parsed = list(
        csv.DictReader(io.StringIO(manifest_csv(manifest_rows([ManifestEntry("s", shipment)]))))
    )
    assert parsed[0]["description"] == "'" + dangerous
    assert escape_cell("Green tea = good") == "Green tea = good"
    assert escape_cell("a;=1") == "a;'=1" and escape_cell("a, +1") == "a, '+1"
    assert escape_cell("x|@SUM(A1)\n-2") == "x|'@SUM(A1)\n'-2"


def test_documents_are_kept_per_shipment(session: Session) -> None:
    first, second = make_shipment(session), make_shipment(session)
    issue(session, first, "cn22", "en", declaration(1))
    issue(session, second, "cn22", "en", declaration(1))
    assert [d.shipment_id for d in list_documents(session, first)] == [first]
    assert session.query(CustomsDocument).filter_by(shipment_id=second).count() == 1


def _committed_shipment(engine: Engine) -> str:
    with Session(engine) as session:
        shipment_id = make_shipment(session)
        session.commit()
    return shipment_id


@pytest.mark.postgres_only
def test_two_requests_issuing_at_once_get_consecutive_versions(engine: Engine) -> None:
    """The second insert waits on the first's unique key, then takes the next version."""
    shipment_id = _committed_shipment(engine)
    first_session, second_session = Session(engine), Session(engine)
    outcome: dict[str, int] = {}
    try:
        issue(first_session, shipment_id, "cn22", "en", declaration(1))

        def second() -> None:
            document = issue(
                second_session, shipment_id, "cn22", "en", corrected(declaration(1), "0902300000")
            )
            outcome["version"] = document.version
            second_session.commit()

        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(0.5)  # the racer is now blocked on the first transaction's row
        first_session.commit()
        racer.join(timeout=30)
        assert outcome == {"version": 2}
        assert [d.version for d in list_documents(first_session, shipment_id)] == [1, 2]
    finally:
        first_session.rollback()
        first_session.execute(
            delete(CustomsDocument).where(CustomsDocument.shipment_id == shipment_id)
        )
        shipment = first_session.get(Shipment, shipment_id)
        assert shipment is not None
        order = first_session.get(Order, shipment.order_id)
        assert order is not None
        first_session.execute(delete(Order).where(Order.id == order.id))
        first_session.execute(delete(Organisation).where(Organisation.id == shipment.seller_id))
        first_session.execute(delete(User).where(User.id == order.buyer_id))
        first_session.commit()
        first_session.close()
        second_session.close()
