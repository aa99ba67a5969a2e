"""The demo's paid order comes with its customs documents, readable by the demo broker."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.customs.models import CustomsDocument


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
