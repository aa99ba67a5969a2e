"""The demo's paid order comes with its customs documents, readable by the demo broker."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.customs.models import CustomsDocument
from marketplace.orders.models import Shipment


def test_the_demo_paid_order_has_its_documents_issued_once(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "customs: documents issued for 2 paid demo shipments" in first.output, first.output
    count = session.scalar(select(func.count()).select_from(CustomsDocument))
    assert count and count >= 2 * 3
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert session.scalar(select(func.count()).select_from(CustomsDocument)) == count


def test_the_demo_kazakh_parcel_to_almaty_has_no_customs_form(app: Flask, session: Session) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    kinds: dict[tuple[str, str], set[str]] = {}
    for from_country, to_country, kind in session.execute(
        select(Shipment.from_country, Shipment.to_country, CustomsDocument.kind).join(
            CustomsDocument, CustomsDocument.shipment_id == Shipment.id
        )
    ):
        kinds.setdefault((from_country, to_country), set()).add(kind)
    # KZ to KZ stays inside one customs territory: a sales invoice and a packing list only.
    assert kinds[("KZ", "KZ")] == {"commercial_invoice", "packing_list"}
    # The Chinese tea crosses a border by letter post, below 300 SDR: a CN 22.
    assert "cn22" in kinds[("CN", "KZ")]
