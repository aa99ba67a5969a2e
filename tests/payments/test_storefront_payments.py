"""What a storefront needs to finish a payment by itself: the methods on offer, the card's keys for
Stripe.js (real localstripe), and a bank transfer's account, reference and due date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.jobs import schedule
from marketplace.money import Money
from marketplace.orders import expiry
from marketplace.orders.models import Order
from marketplace.payments.models import Payment
from tests.factories import Market, make_operator, stock_of
from tests.helpers import assert_problem
from tests.payments.stripe_helpers import PUBLISHABLE_KEY


def _methods(market: Market, **query: str) -> list[dict[str, Any]]:
    response = market.api.get("/payment-methods", query_string=query)
    assert response.status_code == 200, response.get_json()
    body: list[dict[str, Any]] = response.get_json()
    return body


def _pay(market: Market, order_id: str, gateway: str) -> Any:
    return market.api.post(
        f"/orders/{order_id}/payments", json={"gateway": gateway}, as_=market.buyer
    )


def test_the_configured_methods_are_offered_per_currency(market: Market) -> None:
    methods = {m["gateway"]: m for m in _methods(market)}
    assert methods["stripe"]["kind"] == "card" and methods["manual"]["kind"] == "bank_transfer"
    assert "KZT" in methods["stripe"]["currencies"] and "KZT" in methods["manual"]["currencies"]
    # Stripe takes no Iranian rials; the demo bank account takes any currency.
    assert [m["gateway"] for m in _methods(market, currency="IRR")] == ["manual"]
    assert all(m["currencies"] == ["KZT"] for m in _methods(market, currency="KZT", country="KZ"))
    russian = market.api.get("/payment-methods", headers={"Accept-Language": "ru"}).get_json()
    assert {m["name"] for m in russian} == {"Карта", "Банковский перевод"}
    for bad in ({"currency": "XXX1"}, {"country": "XX"}, {"colour": "red"}):
        assert_problem(market.api.get("/payment-methods", query_string=bad), 422, "invalid")


def test_a_card_payment_answers_what_stripe_js_needs(market: Market) -> None:
    order = market.placed((market.tea, 1))
    started = _pay(market, order["id"], "stripe")
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert body["client_secret"].startswith("pi_") and "_secret_" in body["client_secret"]
    assert body["publishable_key"] == PUBLISHABLE_KEY
    assert "instructions" not in body


def test_a_bank_transfer_says_where_what_and_by_when_and_holds_the_stock_until_then(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 2))
    before = dt.datetime.now(dt.UTC)
    started = _pay(market, order["id"], "manual")
    assert started.status_code == 201, started.get_json()
    instructions = started.get_json()["instructions"]
    assert instructions["beneficiary"] == "Silk Road Marketplace Demo Ltd"
    assert instructions["bank_name"] == "Demo Bank"
    assert instructions["iban"] == "GB82WEST12345698765432"
    assert instructions["swift_bic"] == "DEMOGB2L"
    assert "account_number" not in instructions
    assert instructions["reference"] == order["number"]
    assert instructions["amount"] == {
        "amount": order["totals"]["grand_total"]["amount"],
        "currency": "KZT",
    }
    due = dt.datetime.fromisoformat(instructions["due_at"])
    assert dt.timedelta(days=7) <= due - before < dt.timedelta(days=7, minutes=1)
    stored = session.scalar(select(Order).where(Order.id == order["id"]))
    assert stored is not None and abs(stored.expires_at - due) < dt.timedelta(seconds=1)

    # Three days later the 30-minute reservation is long gone, yet the order still holds its stock.
    three_days = before + dt.timedelta(days=3)
    assert expiry.expire_due(session, three_days) == []
    assert stock_of(session, market.tea) == 8
    operator = market.api.user("Operator")
    make_operator(session, operator)
    payment_id = started.get_json()["id"]
    captured = market.api.post(f"/payments/{payment_id}/capture", as_=operator)
    assert captured.status_code == 200, captured.get_json()
    paid = market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()
    assert paid["status"] == "paid"
    payment = session.get(Payment, payment_id)
    assert payment is not None and payment.refunded_minor == 0
    assert Money.from_minor(payment.amount_minor, "KZT").to_api() == instructions["amount"]


def _late_transfer_is_captured_and_refunded(
    market: Market, session: Session, order_id: str, payment_id: str
) -> None:
    """A transfer arriving after its order stopped awaiting it is money on record, sent back:
    the capture records it and refunds it in full at once, as any late money; the order stays
    as it was and no seller is credited."""
    operator = market.api.user("Operator")
    make_operator(session, operator)
    order_before = market.api.get(f"/orders/{order_id}", as_=market.buyer).get_json()["status"]
    captured = market.api.post(f"/payments/{payment_id}/capture", as_=operator)
    assert captured.status_code == 200, captured.get_json()
    late = captured.get_json()
    assert late["status"] == "refunded" and late["refunded"] == late["amount"]
    assert "instructions" not in late
    after = market.api.get(f"/orders/{order_id}", as_=market.buyer).get_json()["status"]
    assert after == order_before
    balance = market.api.get(f"/sellers/{market.tea_seller}/balance", as_=market.tea_owner)
    assert balance.get_json()["sales"]["amount"] in ("0", "0.00")


def test_cancelling_an_order_cancels_the_transfer_it_awaits(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1))
    started = _pay(market, order["id"], "manual").get_json()
    payment_id = started["id"]
    awaited = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert [p["instructions"] for p in awaited] == [started["instructions"]]
    cancelled = market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer)
    assert cancelled.status_code == 200, cancelled.get_json()
    payments = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert [(p["id"], p["status"]) for p in payments] == [(payment_id, "cancelled")]
    assert "instructions" not in payments[0]  # nothing to wire any more
    assert stock_of(session, market.tea) == 10
    _late_transfer_is_captured_and_refunded(market, session, order["id"], payment_id)


def test_the_expiry_job_cancels_the_transfer_of_an_order_never_paid(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 2))
    started = _pay(market, order["id"], "manual").get_json()
    due = dt.datetime.fromisoformat(started["instructions"]["due_at"])
    job = next(job for job in schedule.PERIODIC if job.name == "orders.expire")

    # The day before it is due, the job leaves it alone: the buyer may still be at the bank.
    summary = job.run(session, due - dt.timedelta(days=1), {"CART_TTL_DAYS": 30})
    assert summary.startswith("0 orders expired, 0 bank transfers cancelled")
    summary = job.run(session, due + dt.timedelta(minutes=1), {"CART_TTL_DAYS": 30})
    assert summary.startswith("1 orders expired, 1 bank transfers cancelled")

    assert market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()["status"] == (
        "expired"
    )
    payments = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert [(p["id"], p["status"]) for p in payments] == [(started["id"], "cancelled")]
    assert stock_of(session, market.tea) == 10
    _late_transfer_is_captured_and_refunded(market, session, order["id"], started["id"])


def test_an_order_that_expired_as_it_was_read_awaits_no_transfer_either(
    market: Market, session: Session
) -> None:
    """Between two runs of the job an order expires when it is read; its transfer goes with it,
    and the next run of the job finds it (however the order came to expire)."""
    first, second = market.placed((market.tea, 1)), market.placed((market.tea, 1))
    paid_by_transfer = [_pay(market, o["id"], "manual").get_json()["id"] for o in (first, second)]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    session.execute(
        update(Order).where(Order.id.in_([first["id"], second["id"]])).values(expires_at=past)
    )
    session.flush()
    payments = market.api.get(f"/orders/{first['id']}/payments", as_=market.buyer).get_json()
    assert [(p["id"], p["status"]) for p in payments] == [(paid_by_transfer[0], "cancelled")]
    # The second order expires as its page is read; the job then cancels its transfer.
    assert market.api.get(f"/orders/{second['id']}", as_=market.buyer).get_json()["status"] == (
        "expired"
    )
    assert session.get(Payment, paid_by_transfer[1]).status == "pending"  # type: ignore[union-attr]
    job = next(job for job in schedule.PERIODIC if job.name == "orders.expire")
    summary = job.run(session, dt.datetime.now(dt.UTC), {"CART_TTL_DAYS": 30})
    assert summary.startswith("0 orders expired, 1 bank transfers cancelled")
    payments = market.api.get(f"/orders/{second['id']}/payments", as_=market.buyer).get_json()
    assert [p["status"] for p in payments] == ["cancelled"]
