"""The demo's paid order has its captured bank transfer and its sellers' sales, loaded once."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.orders.models import Order
from marketplace.payments.models import LedgerEntry, Payment


def test_the_demo_paid_order_has_a_matching_payment_and_ledger_entries(
    app: Flask, session: Session
) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    order = session.scalar(select(Order).where(Order.payment_reference == "demo"))
    assert order is not None, first.output
    payments = session.scalars(select(Payment).where(Payment.order_id == order.id)).all()
    assert [(p.status, p.amount_minor, p.currency) for p in payments] == [
        ("succeeded", order.grand_total_minor, order.currency)
    ]
    sales = session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(LedgerEntry.order_id == order.id, LedgerEntry.kind == "sale")
    )
    assert sales and sales >= 1

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert (
        session.scalar(
            select(func.count()).select_from(Payment).where(Payment.order_id == order.id)
        )
        == 1
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.order_id == order.id, LedgerEntry.kind == "sale")
        )
        == sales
    )
