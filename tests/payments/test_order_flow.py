"""Orders paid and refunded end to end through the HTTP API: order -> payment -> webhook or capture
-> paid -> refund -> balance, on the real checkout (two sellers, two currencies, locked rates).

Stripe here is real localstripe: the PaymentIntent is created by our endpoint through the real SDK,
the card is confirmed the way Stripe.js would, and the `payment_intent.succeeded` webhook is the
one localstripe itself signed and sent. Refunds reach localstripe through the SDK too (it sends no
refund events, so none are used here).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.money import Money
from marketplace.money import services as money
from marketplace.orders import queries
from marketplace.orders.models import Order
from marketplace.payments.ledger import commission_of
from marketplace.payments.models import LedgerEntry, Payment, PaymentRefund
from tests.factories import Market, make_operator, stock_of
from tests.helpers import Caller, assert_problem
from tests.payments.localstripe_server import LocalStripe, WebhookReceiver
from tests.payments.stripe_helpers import pay_with_card, signed_event

BPS = 800  # PLATFORM_COMMISSION_BPS in the test settings (the default)

pytestmark = pytest.mark.usefixtures("current_rates")


def _operator(market: Market) -> Caller:
    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    return operator


def _pay(market: Market, order_id: str, gateway: str, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    return market.api.post(
        f"/orders/{order_id}/payments", json={"gateway": gateway}, as_=market.buyer, headers=headers
    )


def _order(market: Market, order_id: str) -> dict[str, Any]:
    return market.api.get(f"/orders/{order_id}", as_=market.buyer).get_json()


def _shipment(order: dict[str, Any], seller_id: str) -> str:
    return next(s["id"] for s in order["shipments"] if s["seller_id"] == seller_id)


def _balance(market: Market, owner: Caller, seller_id: str) -> dict[str, Any]:
    response = market.api.get(f"/sellers/{seller_id}/balance", as_=owner)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _units(api_money: dict[str, str]) -> int:
    return Money.of(api_money["amount"], api_money["currency"]).minor


def assert_ledgers_balance(session: Session, order_id: str) -> None:
    """Every seller's ledger sums to zero against the payment and its refunds.

    Per shipment: the sale is the shipment's share of the payment at the order's locked rates
    (exactly the share where the seller's currency is the order's); refunds are what was refunded
    for it (the whole sale once it is refunded in full); commission is what the platform keeps of
    the rest; and sale + refunds + commission is what the seller is owed. Across shipments the
    shares add up to the payment and the refund records to what the payment says was refunded.
    """
    session.expire_all()
    order = session.get(Order, order_id)
    assert order is not None and order.rate_set_id
    table = money.get_table(session, order.rate_set_id)
    payment = session.scalar(
        select(Payment).where(Payment.order_id == order_id, Payment.status != "pending")
    )
    assert payment is not None
    shares = queries.seller_shares(session, order_id)
    assert sum(share.paid.minor for share in shares) == payment.amount_minor
    refunds = dict(
        session.execute(
            select(PaymentRefund.shipment_id, func.sum(PaymentRefund.amount_minor))
            .where(PaymentRefund.payment_id == payment.id)
            .group_by(PaymentRefund.shipment_id)
        ).all()
    )
    assert sum(refunds.values()) == payment.refunded_minor
    for share in shares:
        currency = share.goods_seller.currency
        kinds = dict(
            session.execute(
                select(LedgerEntry.kind, func.sum(LedgerEntry.amount_minor))
                .where(LedgerEntry.shipment_id == share.shipment_id)
                .group_by(LedgerEntry.kind)
            ).all()
        )
        sale = table.convert(share.paid, currency)
        assert kinds["sale"] == sale.minor
        refunded = refunds.get(share.shipment_id, 0)
        if refunded == share.paid.minor:
            assert kinds.get("refund", 0) == -sale.minor and kinds.get("commission", 0) == 0
        else:
            refunded_seller = table.convert(
                Money.from_minor(refunded, share.paid.currency), currency
            ).minor
            assert (
                abs(kinds.get("refund", 0) + refunded_seller) <= len(refunds) + 1
            )  # one rounding per refund
            if currency == share.paid.currency:
                assert kinds.get("refund", 0) == -refunded
            kept = sale.minor + kinds.get("refund", 0)
            assert (
                abs(
                    -kinds.get("commission", 0)
                    - commission_of(Money.from_minor(kept, currency), BPS).minor
                )
                <= 1
            )
        owed = sum(kinds.values())
        entries = session.scalar(
            select(func.sum(LedgerEntry.amount_minor)).where(
                LedgerEntry.shipment_id == share.shipment_id
            )
        )
        assert owed == entries


def test_a_card_payment_goes_from_order_to_webhook_to_refund_to_balance(
    market: Market,
    session: Session,
    stripe_client: stripe.StripeClient,
    localstripe: LocalStripe,
    webhook_receiver: WebhookReceiver,
    post_webhook: Callable[..., Any],
) -> None:
    # The order is in the tea seller's own currency (CNY); the carpet seller's share is in TRY.
    order = market.placed((market.tea, 2), (market.carpet, 1), currency="CNY")
    grand_total = order["totals"]["grand_total"]

    started = _pay(market, order["id"], "stripe", key="pay-once")
    assert started.status_code == 201, started.get_json()
    payment = started.get_json()
    assert payment["gateway"] == "stripe" and payment["status"] == "pending"
    assert payment["amount"] == grand_total and payment["client_secret"]
    replay = _pay(market, order["id"], "stripe", key="pay-once")
    assert (
        replay.headers["Idempotent-Replayed"] == "true" and replay.get_json()["id"] == payment["id"]
    )

    # Real localstripe: Stripe.js confirms the card; localstripe signs and sends the webhook.
    reference = session.get(Payment, payment["id"]).reference  # type: ignore[union-attr]
    pay_with_card(stripe_client, reference)
    delivery = webhook_receiver.wait_for(reference, '"payment_intent.succeeded"')
    assert post_webhook(delivery.body, delivery.signature).get_json()["outcome"] == "applied"
    assert post_webhook(delivery.body, delivery.signature).get_json()["outcome"] == "duplicate"

    paid = _order(market, order["id"])
    assert paid["status"] == "paid" and {s["status"] for s in paid["shipments"]} == {"ready"}
    assert (
        session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.order_id == order["id"], LedgerEntry.kind == "sale")
        )
        == 2
    )  # once, not twice
    tea_shipment, carpet_shipment = (
        _shipment(order, market.tea_seller),
        _shipment(order, market.carpet_seller),
    )
    tea_share = next(s for s in order["shipments"] if s["id"] == tea_shipment)
    tea_paid = sum(_units(tea_share[k]) for k in ("goods", "shipping")) + (
        _units(tea_share["duties"]) + _units(tea_share["taxes"])  # DDP: collected at checkout
    )
    balance = _balance(market, market.tea_owner, market.tea_seller)
    assert _units(balance["sales"]) == tea_paid
    assert (
        _units(balance["commission"])
        == -commission_of(Money.from_minor(tea_paid, "CNY"), BPS).minor
    )

    # Everyone concerned sees the payment; anyone else does not.
    for caller in (market.buyer, market.tea_owner, market.carpet_owner):
        listed = market.api.get(f"/orders/{order['id']}/payments", as_=caller)
        assert [p["status"] for p in listed.get_json()] == ["succeeded"], listed.get_json()
    assert_problem(market.api.get(f"/orders/{order['id']}/payments", as_=market.broker), 404)

    # The tea seller refunds part of its own shipment; it reaches localstripe in fen.
    refund = market.api.post(
        f"/orders/{order['id']}/refunds",
        as_=market.tea_owner,
        headers={"Idempotency-Key": "refund-1"},
        json={"amount": {"amount": "30.00", "currency": "CNY"}, "reason": "one tin dented"},
    )
    assert refund.status_code == 201, refund.get_json()
    body = refund.get_json()
    assert [(r["shipment_id"], r["amount"]) for r in body["refunds"]] == [
        (tea_shipment, {"amount": "30.00", "currency": "CNY"})
    ]
    assert (
        localstripe.stored(
            "refund", session.get(PaymentRefund, body["refunds"][0]["id"]).reference
        ).amount
        == 3000
    )  # type: ignore[union-attr]
    assert body["payment"]["status"] == "partially_refunded"
    again = market.api.post(
        f"/orders/{order['id']}/refunds",
        as_=market.tea_owner,
        headers={"Idempotency-Key": "refund-1"},
        json={"amount": {"amount": "30.00", "currency": "CNY"}, "reason": "one tin dented"},
    )
    assert again.get_json() == body and again.headers["Idempotent-Replayed"] == "true"
    assert _order(market, order["id"])["status"] == "partially_refunded"

    # Never another seller's shipment, never more than the shipment brought in.
    assert_problem(
        market.api.post(
            f"/orders/{order['id']}/refunds",
            as_=market.carpet_owner,
            json={"shipment_id": tea_shipment, "reason": "not mine"},
        ),
        404,
    )
    too_much = assert_problem(
        market.api.post(
            f"/orders/{order['id']}/refunds",
            as_=market.tea_owner,
            json={
                "amount": {
                    "amount": f"{Decimal(tea_paid - 3000) / 100 + Decimal('0.01'):.2f}",
                    "currency": "CNY",
                },
                "reason": "too much",
            },
        ),
        409,
        "refund_exceeds_payment",
    )
    assert _units(too_much["refundable"]) == tea_paid - 3000

    # The carpet seller refunds its whole shipment: the TRY ledger gives back exactly its sale.
    whole = market.api.post(
        f"/orders/{order['id']}/refunds",
        as_=market.carpet_owner,
        json={"reason": "out of stock after all"},
    )
    assert whole.status_code == 201, whole.get_json()
    assert [r["shipment_id"] for r in whole.get_json()["refunds"]] == [carpet_shipment]
    carpet_balance = _balance(market, market.carpet_owner, market.carpet_seller)
    assert carpet_balance["payable"] == {"amount": "0.00", "currency": "TRY"}
    assert carpet_balance["commission"] == {"amount": "0.00", "currency": "TRY"}

    tea_balance = _balance(market, market.tea_owner, market.tea_seller)
    assert tea_balance["refunds"] == {"amount": "-30.00", "currency": "CNY"}
    kept = Money.from_minor(tea_paid - 3000, "CNY")
    assert _units(tea_balance["payable"]) == (kept - commission_of(kept, BPS)).minor
    assert_ledgers_balance(session, order["id"])


def test_a_bank_transfer_is_captured_by_an_operator_then_refunded_in_full(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))  # KZT
    started = _pay(market, order["id"], "manual")
    assert started.status_code == 201, started.get_json()
    payment = started.get_json()
    assert payment["status"] == "pending" and "client_secret" not in payment
    assert payment["amount"] == order["totals"]["grand_total"]
    operator = _operator(market)

    assert_problem(market.api.post(f"/payments/{payment['id']}/capture", as_=market.buyer), 403)
    captured = market.api.post(f"/payments/{payment['id']}/capture", as_=operator)
    assert captured.status_code == 200 and captured.get_json()["status"] == "succeeded"
    assert (
        market.api.post(f"/payments/{payment['id']}/capture", as_=operator).status_code == 200
    )  # once
    assert _order(market, order["id"])["status"] == "paid"
    assert _units(_balance(market, market.tea_owner, market.tea_seller)["sales"]) > 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.kind == "sale", LedgerEntry.order_id == order["id"])
        )
        == 2
    )
    assert_problem(_pay(market, order["id"], "manual"), 409, "invalid_transition")  # paid already

    # Neither the buyer nor a stranger refunds; an operator refunds the whole order, split per shipment.
    assert_problem(
        market.api.post(f"/orders/{order['id']}/refunds", as_=market.buyer, json={"reason": "x"}),
        403,
    )
    assert_problem(
        market.api.post(f"/orders/{order['id']}/refunds", as_=market.broker, json={"reason": "x"}),
        404,
    )
    refunded = market.api.post(
        f"/orders/{order['id']}/refunds", as_=operator, json={"reason": "lost in transit"}
    )
    assert refunded.status_code == 201, refunded.get_json()
    parts = refunded.get_json()["refunds"]
    assert {r["shipment_id"] for r in parts} == {s["id"] for s in order["shipments"]}
    assert sum(_units(r["amount"]) for r in parts) == _units(order["totals"]["grand_total"])
    assert refunded.get_json()["payment"]["status"] == "refunded"
    assert _order(market, order["id"])["status"] == "refunded"
    for owner, seller in (
        (market.tea_owner, market.tea_seller),
        (market.carpet_owner, market.carpet_seller),
    ):
        balance = _balance(market, owner, seller)
        assert _units(balance["payable"]) == 0 and _units(balance["commission"]) == 0
    assert_problem(
        market.api.post(
            f"/orders/{order['id']}/refunds",
            as_=operator,
            json={"amount": {"amount": "1.00", "currency": "KZT"}, "reason": "more"},
        ),
        409,
        "payment_not_refundable",
    )  # nothing remains of it
    assert_ledgers_balance(session, order["id"])


def test_cancelling_a_paid_order_refunds_it_and_returns_the_stock(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 3), (market.carpet, 1))
    payment = _pay(market, order["id"], "manual").get_json()
    assert (
        market.api.post(f"/payments/{payment['id']}/capture", as_=_operator(market)).status_code
        == 200
    )
    assert stock_of(session, market.tea) == 7

    cancelled = market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer)

    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    assert stock_of(session, market.tea) == 10 and stock_of(session, market.carpet) == 3
    listed = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert [(p["status"], p["refunded"]) for p in listed] == [
        ("refunded", order["totals"]["grand_total"])
    ]
    assert _units(_balance(market, market.tea_owner, market.tea_seller)["payable"]) == 0
    assert_ledgers_balance(session, order["id"])


def test_paying_checks_who_pays_what_and_how(market: Market) -> None:
    order = market.placed((market.tea, 1))
    path = f"/orders/{order['id']}/payments"
    assert_problem(market.api.post(path, json={"gateway": "stripe"}), 401)
    for caller in (market.tea_owner, market.broker):
        assert_problem(market.api.post(path, json={"gateway": "manual"}, as_=caller), 404)
    assert_problem(
        market.api.post(path, json={"gateway": "paypal"}, as_=market.buyer),
        422,
        "payment_gateway_unknown",
    )
    assert_problem(
        market.api.post(path, json={"gateway": "manual", "tip": "1"}, as_=market.buyer), 422
    )
    assert_problem(market.api.post(path, json={}, as_=market.buyer), 422)
    assert_problem(
        market.api.post("/orders/nope/payments", json={"gateway": "manual"}, as_=market.buyer), 404
    )
    assert market.api.get(path, as_=market.buyer).get_json() == []
    unpaid_refund = market.api.post(
        f"/orders/{order['id']}/refunds", as_=market.tea_owner, json={"reason": "x"}
    )
    assert_problem(unpaid_refund, 409, "payment_not_refundable")


def test_refund_input_is_checked_and_changes_nothing(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 1))
    payment = _pay(market, order["id"], "manual").get_json()
    market.api.post(f"/payments/{payment['id']}/capture", as_=_operator(market))
    path = f"/orders/{order['id']}/refunds"
    for body, code in (
        (
            {"amount": {"amount": "1.00", "currency": "EUR"}, "reason": "x"},
            "refund_currency_mismatch",
        ),
        ({"amount": {"amount": "0", "currency": "KZT"}, "reason": "x"}, None),
        ({"amount": {"amount": "-1.00", "currency": "KZT"}, "reason": "x"}, None),
        ({"reason": ""}, None),
        ({"reason": "x", "why": "y"}, None),
    ):
        assert_problem(market.api.post(path, json=body, as_=market.tea_owner), 422, code)
    assert (
        session.scalar(
            select(func.count())
            .select_from(PaymentRefund)
            .where(PaymentRefund.payment_id == payment["id"])
        )
        == 0
    )


def _stripe_units(amount: str, currency: str) -> int:
    """Stripe's integer for an amount, worked out here by hand from Stripe's published rules."""
    value = Decimal(amount)
    if currency == "JPY":
        return int(value)
    if currency == "KWD":  # thousandths, last digit 0, rounded to the nearest ten
        return int(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 1000)
    return int(value * 100)


@pytest.mark.parametrize("currency", ["JPY", "KWD", "EUR"])
def test_orders_reach_the_gateway_in_its_minor_units(
    market: Market, session: Session, localstripe: LocalStripe, currency: str
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1), currency=currency)
    total = order["totals"]["grand_total"]
    assert total["currency"] == currency

    started = _pay(market, order["id"], "stripe")

    assert started.status_code == 201, started.get_json()
    payment = session.get(Payment, started.get_json()["id"])
    assert payment is not None
    intent = localstripe.stored("payment_intent", payment.reference)
    assert (intent.amount, intent.currency) == (
        _stripe_units(total["amount"], currency),
        currency.lower(),
    )
    manual = market.placed((market.tea, 1), currency=currency)
    assert (
        _pay(market, manual["id"], "manual").get_json()["amount"] == manual["totals"]["grand_total"]
    )


def test_money_arriving_for_an_order_already_paid_is_refunded_at_once(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    transfer = _pay(market, order["id"], "manual").get_json()
    second = _pay(market, order["id"], "manual").get_json()  # the buyer wired twice
    operator = _operator(market)
    assert market.api.post(f"/payments/{transfer['id']}/capture", as_=operator).status_code == 200

    late = market.api.post(f"/payments/{second['id']}/capture", as_=operator)

    assert late.status_code == 200, late.get_json()
    assert (
        late.get_json()["status"] == "refunded"
        and late.get_json()["refunded"] == late.get_json()["amount"]
    )
    assert _order(market, order["id"])["status"] == "paid"
    assert (
        session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.order_id == order["id"], LedgerEntry.kind == "sale")
        )
        == 2
    )  # the first payment's only


def test_a_refund_made_at_stripes_dashboard_is_split_over_the_shipments(
    market: Market,
    session: Session,
    stripe_client: stripe.StripeClient,
    localstripe: LocalStripe,
    post_webhook: Callable[..., Any],
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1), currency="CNY")
    payment = _pay(market, order["id"], "stripe").get_json()
    reference = session.get(Payment, payment["id"]).reference  # type: ignore[union-attr]
    pay_with_card(stripe_client, reference)
    # Ours, signed with the SDK's own code (the test does not wait for localstripe's own delivery).
    paid_body, paid_signature = signed_event(
        "payment_intent.succeeded",
        {
            "id": reference,
            "object": "payment_intent",
            "amount": _units(payment["amount"]),
            "amount_received": _units(payment["amount"]),
            "currency": "cny",
            "status": "succeeded",
        },
    )
    assert post_webhook(paid_body, paid_signature).get_json()["outcome"] == "applied"

    # Real localstripe holds the refund; it sends no charge.refunded, so ours carries its totals.
    stripe_client.v1.refunds.create(params={"payment_intent": reference, "amount": 10_000})
    charge = localstripe.stored(
        "charge", localstripe.stored("payment_intent", reference).latest_charge.id
    )
    body, signature = signed_event(
        "charge.refunded",
        {
            "id": charge.id,
            "object": "charge",
            "payment_intent": reference,
            "amount": charge.amount,
            "amount_refunded": charge.amount_refunded,
            "currency": "cny",
        },
    )
    assert post_webhook(body, signature).get_json()["outcome"] == "applied"

    assert _order(market, order["id"])["status"] == "partially_refunded"
    refunds = dict(
        session.execute(
            select(LedgerEntry.shipment_id, func.sum(LedgerEntry.amount_minor))
            .where(LedgerEntry.order_id == order["id"], LedgerEntry.kind == "refund")
            .group_by(LedgerEntry.shipment_id)
        ).all()
    )
    assert set(refunds) == {s["id"] for s in order["shipments"]}  # both sellers bear their part
    tea = _shipment(order, market.tea_seller)
    tea_part = refunds[tea]
    assert -10_000 < tea_part < 0


def test_a_stripe_success_for_less_than_the_order_does_not_mark_it_paid(
    market: Market, session: Session, post_webhook: Callable[..., Any]
) -> None:
    order = market.placed((market.tea, 1), currency="CNY")
    payment = _pay(market, order["id"], "stripe").get_json()
    reference = session.get(Payment, payment["id"]).reference  # type: ignore[union-attr]
    for units in (1, _units(payment["amount"]) - 1):
        body, signature = signed_event(
            "payment_intent.succeeded",
            {
                "id": reference,
                "object": "payment_intent",
                "amount": units,
                "amount_received": units,
                "currency": "cny",
                "status": "succeeded",
            },
        )
        assert post_webhook(body, signature).get_json()["outcome"] == "ignored"
    assert _order(market, order["id"])["status"] == "pending_payment"
    paid = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert paid[0]["status"] == "pending"


def test_a_seller_sees_only_its_own_share_of_an_orders_payments(market: Market) -> None:
    order = market.placed((market.tea, 2), (market.carpet, 1))
    transfer = _pay(market, order["id"], "manual").get_json()
    operator = _operator(market)
    assert market.api.post(f"/payments/{transfer['id']}/capture", as_=operator).status_code == 200
    whole = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert whole[0]["amount"] == order["totals"]["grand_total"] == transfer["amount"]
    for owner in (market.tea_owner, market.carpet_owner):
        own = market.api.get(f"/orders/{order['id']}", as_=owner).get_json()
        seen = market.api.get(f"/orders/{order['id']}/payments", as_=owner).get_json()
        assert len(seen) == 1 and seen[0]["id"] == transfer["id"]
        assert seen[0]["amount"] == own["totals"]["grand_total"]
        assert seen[0]["amount"] != whole[0]["amount"]
        assert seen[0]["refunded"]["amount"] == "0.00"
