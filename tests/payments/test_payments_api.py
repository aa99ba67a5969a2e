"""Payments over HTTP: the operator's capture of a bank transfer, and seller balances."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.money import Money
from marketplace.payments import ledger, services
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.gateway import PaymentStatus, WebhookAction
from marketplace.payments.services import PaymentChange
from tests.helpers import Api, Caller, assert_problem


def _operator(api: Api, session: Session) -> Caller:
    caller = api.user("Operator")
    session.execute(update(User).where(User.id == caller.id).values(is_operator=True))
    return caller


def test_an_operator_captures_a_bank_transfer_once(
    api: Api,
    session: Session,
    manual_gateway: ManualGateway,
    heard: list[PaymentChange],
    order_id: Callable[..., str],
) -> None:
    started = services.start_payment(
        session,
        manual_gateway,
        order_id=order_id("JPY"),
        amount=Money.of("1500", "JPY"),
        idempotency_key="bank-1",
    )
    assert started.payment.status == PaymentStatus.PENDING and started.client_secret is None
    operator = _operator(api, session)

    first = api.post(f"/payments/{started.payment.id}/capture", as_=operator)
    again = api.post(f"/payments/{started.payment.id}/capture", as_=operator)

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "succeeded"
    assert first.get_json()["amount"] == {"amount": "1500", "currency": "JPY"}
    assert again.status_code == 200
    assert [c.action for c in heard] == [WebhookAction.PAYMENT_SUCCEEDED]


def test_only_operators_capture_and_unknown_payments_are_404(
    api: Api, session: Session, manual_gateway: ManualGateway, order_id: Callable[..., str]
) -> None:
    started = services.start_payment(
        session,
        manual_gateway,
        order_id=order_id(),
        amount=Money.of("10.00", "EUR"),
        idempotency_key="bank-2",
    )
    assert_problem(api.post(f"/payments/{started.payment.id}/capture"), 401)
    assert_problem(
        api.post(f"/payments/{started.payment.id}/capture", as_=api.user()),
        403,
        "operator_required",
    )
    assert_problem(api.post("/payments/no-such-payment/capture", as_=_operator(api, session)), 404)
    session.refresh(started.payment)
    assert started.payment.status == PaymentStatus.PENDING


def test_a_seller_member_reads_the_balance_and_nobody_else_does(
    api: Api, session: Session, shipment_of: Callable[[str], str]
) -> None:
    owner = api.user("Seller")
    seller = api.seller(owner, currency="CNY")
    ledger.record_sale(
        session,
        seller_id=seller["id"],
        amount=Money.of("200.00", "CNY"),
        commission_bps=800,
        shipment_id=shipment_of(seller["id"]),
    )

    balance = api.get(f"/sellers/{seller['id']}/balance", as_=owner)

    assert balance.status_code == 200
    assert balance.get_json() == {
        "seller_id": seller["id"],
        "currency": "CNY",
        "sales": {"amount": "200.00", "currency": "CNY"},
        "commission": {"amount": "-16.00", "currency": "CNY"},
        "refunds": {"amount": "0.00", "currency": "CNY"},
        "payouts": {"amount": "0.00", "currency": "CNY"},
        "payable": {"amount": "184.00", "currency": "CNY"},
    }
    assert_problem(api.get(f"/sellers/{seller['id']}/balance"), 401)
    assert_problem(api.get(f"/sellers/{seller['id']}/balance", as_=api.user("Stranger")), 404)
