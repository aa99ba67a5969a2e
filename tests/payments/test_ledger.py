"""The sellers' ledger: sales less commission, refunds giving commission back, payouts, export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, Invalid
from marketplace.money import Money
from marketplace.payments import ledger, services
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.gateway import WebhookAction
from marketplace.payments.models import LedgerEntry, Payment, PayoutMethod
from marketplace.payments.services import PaymentChange
from tests.factories import make_order

EUR = "EUR"


def test_a_sale_owes_the_seller_the_amount_less_commission(
    session: Session, seller_factory: Callable[..., str]
) -> None:
    seller_id = seller_factory(EUR)
    s_1 = make_order(session, EUR, [(seller_id, 100)])[1][0]
    ledger.record_sale(
        session,
        seller_id=seller_id,
        amount=Money.of("100.00", EUR),
        commission_bps=800,
        shipment_id=s_1,
    )
    balance = ledger.seller_balance(session, seller_id)
    assert (balance.sales, balance.commission, balance.payable) == (
        Money.of("100.00", EUR),
        Money.of("-8.00", EUR),
        Money.of("92.00", EUR),
    )


def test_partial_refunds_give_back_exactly_the_commission_taken(
    session: Session, seller_factory: Callable[..., str]
) -> None:
    seller_id = seller_factory(EUR)
    s_2 = make_order(session, EUR, [(seller_id, 100)])[1][0]
    ledger.record_sale(
        session,
        seller_id=seller_id,
        amount=Money.of("10.01", EUR),
        commission_bps=800,
        shipment_id=s_2,
    )
    for part in ("3.33", "3.33", "3.35"):
        ledger.record_refund(
            session,
            seller_id=seller_id,
            amount=Money.of(part, EUR),
            commission_bps=800,
            shipment_id=s_2,
        )
    balance = ledger.seller_balance(session, seller_id)
    assert balance.commission == Money.of("0.00", EUR)
    assert balance.payable == Money.of("0.00", EUR)
    with pytest.raises(Conflict):
        ledger.record_refund(
            session,
            seller_id=seller_id,
            amount=Money.of("0.01", EUR),
            commission_bps=800,
            shipment_id=s_2,
        )


def test_ledger_amounts_must_be_in_the_sellers_currency(
    session: Session, seller_factory: Callable[..., str]
) -> None:
    seller_id = seller_factory("KZT")
    with pytest.raises(Invalid) as refused:
        ledger.record_sale(
            session,
            seller_id=seller_id,
            amount=Money.of("10.00", EUR),
            commission_bps=800,
            shipment_id=make_order(session, EUR, [(seller_id, 100)])[1][0],
        )
    assert refused.value.error_code == "ledger_currency_mismatch"


def test_payouts_never_exceed_the_payable_balance_and_export_as_csv(
    session: Session, seller_factory: Callable[..., str]
) -> None:
    seller_id = seller_factory(EUR, name="=HYPERLINK(evil)")
    s_3 = make_order(session, EUR, [(seller_id, 100)])[1][0]
    ledger.record_sale(
        session,
        seller_id=seller_id,
        amount=Money.of("50.00", EUR),
        commission_bps=800,
        shipment_id=s_3,
    )
    with pytest.raises(Conflict) as refused:
        ledger.create_payout(
            session,
            seller_id=seller_id,
            amount=Money.of("46.01", EUR),
            method=PayoutMethod.BANK_TRANSFER,
        )
    assert refused.value.error_code == "payout_exceeds_balance"
    payout = ledger.create_payout(
        session,
        seller_id=seller_id,
        amount=Money.of("46.00", EUR),
        method=PayoutMethod.BANK_TRANSFER,
    )

    exported = ledger.export_bank_payouts(session, dt.datetime(2026, 11, 28, tzinfo=dt.UTC))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["payout_id"], r["amount"], r["currency"]) for r in rows] == [
        (payout.id, "46.00", EUR)
    ]
    assert rows[0]["seller_name"] == "'=HYPERLINK(evil)"
    assert rows[0]["reference"] == payout.reference
    assert (
        list(
            csv.DictReader(
                io.StringIO(ledger.export_bank_payouts(session, dt.datetime.now(dt.UTC)))
            )
        )
        == []
    )
    assert ledger.seller_balance(session, seller_id).payable == Money.of("0.00", EUR)


def test_every_sellers_ledger_sums_to_zero_against_payments_and_refunds(
    session: Session, seller_factory: Callable[..., str], manual_gateway: ManualGateway
) -> None:
    """A two-seller order paid by bank transfer, then partly refunded: what the sellers are owed
    plus the platform's commission equals what was paid less what was refunded."""
    sellers = {
        seller_factory(EUR): Money.of("60.00", EUR),
        seller_factory(EUR): Money.of("40.00", EUR),
    }
    order, shipments = make_order(
        session, EUR, [(seller_id, amount.minor) for seller_id, amount in sellers.items()]
    )
    shipment_of = dict(zip(sellers, shipments, strict=True))
    seller_of_shipment = {shipment: seller for seller, shipment in shipment_of.items()}

    # Standing in for the orders package: its listeners write the ledger from payment changes.
    def on_paid(session: Session, change: PaymentChange) -> None:
        for seller_id, amount in sellers.items():
            ledger.record_sale(
                session,
                seller_id=seller_id,
                amount=amount,
                commission_bps=800,
                shipment_id=shipment_of[seller_id],
                order_id=change.order_id,
                payment_id=change.payment_id,
            )

    def on_refunded(session: Session, change: PaymentChange) -> None:
        assert change.shipment_id is not None
        ledger.record_refund(
            session,
            seller_id=seller_of_shipment[change.shipment_id],
            amount=change.change,
            commission_bps=800,
            shipment_id=change.shipment_id,
            payment_id=change.payment_id,
        )

    listeners = {WebhookAction.PAYMENT_SUCCEEDED: on_paid, WebhookAction.REFUNDED: on_refunded}
    started = services.start_payment(
        session,
        manual_gateway,
        order_id=order,
        amount=Money.of("100.00", EUR),
        idempotency_key="ledger-order",
    )
    services.capture_payment(session, manual_gateway, started.payment.id, listeners)
    first_seller = next(iter(sellers))
    services.refund_payment(
        session,
        manual_gateway,
        payment_id=started.payment.id,
        amount=Money.of("15.00", EUR),
        reason="damaged",
        idempotency_key="ledger-refund",
        listeners=listeners,
        shipment_id=shipment_of[first_seller],
    )

    payment = session.get(Payment, started.payment.id)
    assert payment is not None
    net_paid = payment.amount_minor - payment.refunded_minor
    owed_to_sellers = sum(ledger.seller_balance(session, s).payable.minor for s in sellers)
    commission = -session.scalar(
        select(func.sum(LedgerEntry.amount_minor)).where(
            LedgerEntry.kind == "commission", LedgerEntry.seller_id.in_(sellers)
        )
    )
    assert owed_to_sellers + commission == net_paid
    assert ledger.seller_balance(session, first_seller).payable == Money.of(
        "41.40", EUR
    )  # (60 - 15) * 0.92


def test_operators_export_bank_payouts_from_the_cli(
    app: Flask, session: Session, seller_factory: Callable[..., str]
) -> None:
    seller_id = seller_factory(EUR)
    s_cli = make_order(session, EUR, [(seller_id, 100)])[1][0]
    ledger.record_sale(
        session,
        seller_id=seller_id,
        amount=Money.of("25.00", EUR),
        commission_bps=800,
        shipment_id=s_cli,
    )
    payout = ledger.create_payout(
        session,
        seller_id=seller_id,
        amount=Money.of("23.00", EUR),
        method=PayoutMethod.BANK_TRANSFER,
    )
    session.commit()

    result = app.test_cli_runner().invoke(args=["payments", "export-payouts"])

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["payout_id"], r["amount"]) for r in rows] == [(payout.id, "23.00")]
