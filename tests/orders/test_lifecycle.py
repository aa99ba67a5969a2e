"""Order lifecycle: paid, (partially) shipped, cancelled, expired; illegal moves are 409s."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.checkout import payment_events
from marketplace.db import utcnow
from marketplace.errors import NotFound
from marketplace.money import Money
from marketplace.orders import errors, expiry, lifecycle, queries
from marketplace.orders.models import Order
from tests.factories import Market, make_operator, stock_of
from tests.helpers import assert_problem

DISPATCH = {"carrier": "Kazpost", "tracking_number": "RR123456789KZ"}


def _pay(session: Session, order_id: str, reference: str = "pay_1") -> Order:
    return lifecycle.mark_paid(session, order_id, now=utcnow(), payment_reference=reference)


def _shipment(order: dict[str, Any], seller_id: str) -> str:
    return next(s["id"] for s in order["shipments"] if s["seller_id"] == seller_id)


def _user(session: Session, caller_id: str) -> User:
    user = session.get(User, caller_id)
    assert user is not None
    return user


def test_paying_makes_the_shipments_ready(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    paid = _pay(session, order["id"])
    assert paid.status == "paid" and paid.paid_at is not None and paid.payment_reference == "pay_1"
    body = market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()
    assert body["status"] == "paid" and {s["status"] for s in body["shipments"]} == {"ready"}


def test_paying_twice_with_the_same_reference_changes_nothing_and_otherwise_conflicts(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1))
    first = _pay(session, order["id"]).paid_at
    assert _pay(session, order["id"]).paid_at == first
    with pytest.raises(errors.InvalidTransition):
        _pay(session, order["id"], reference="another")
    with pytest.raises(errors.InvalidTransition):
        lifecycle.mark_paid(session, order["id"], now=utcnow())


def test_dispatching_one_shipment_then_the_other_ships_the_order(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    tea, carpet = _shipment(order, market.tea_seller), _shipment(order, market.carpet_seller)
    assert_problem(
        market.api.post(f"/shipments/{tea}/dispatch", json=DISPATCH, as_=market.tea_owner),
        409,
        "invalid_transition",
    )
    _pay(session, order["id"])
    sent = market.api.post(f"/shipments/{tea}/dispatch", json=DISPATCH, as_=market.tea_owner)
    assert sent.status_code == 200, sent.get_json()
    assert (
        sent.get_json()["status"] == "dispatched"
        and sent.get_json()["tracking_number"] == "RR123456789KZ"
    )
    assert sent.get_json()["order_status"] == "partially_shipped"
    assert_problem(
        market.api.post(f"/shipments/{tea}/dispatch", json=DISPATCH, as_=market.tea_owner), 409
    )
    assert (
        market.api.post(
            f"/shipments/{carpet}/dispatch", json=DISPATCH, as_=market.carpet_owner
        ).status_code
        == 200
    )
    assert (
        market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()["status"] == "shipped"
    )


def test_only_the_sellers_members_dispatch_and_input_is_checked(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1))
    _pay(session, order["id"])
    tea = _shipment(order, market.tea_seller)
    for caller in (market.buyer, market.carpet_owner, market.broker):
        assert_problem(
            market.api.post(f"/shipments/{tea}/dispatch", json=DISPATCH, as_=caller), 404
        )
    for body in ({"carrier": "Kazpost"}, {**DISPATCH, "carrier": ""}, {**DISPATCH, "eta": "soon"}):
        assert_problem(
            market.api.post(f"/shipments/{tea}/dispatch", json=body, as_=market.tea_owner), 422
        )
    assert_problem(
        market.api.post("/shipments/nope/dispatch", json=DISPATCH, as_=market.tea_owner), 404
    )
    assert market.api.get(f"/shipments/{tea}", as_=market.tea_owner).get_json()["status"] == "ready"


def test_cancelling_an_unpaid_order_gives_the_stock_back(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 4), (market.carpet, 2))
    response = market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert {s["status"] for s in response.get_json()["shipments"]} == {"cancelled"}
    assert stock_of(session, market.tea) == 10 and stock_of(session, market.carpet) == 3
    assert_problem(
        market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer),
        409,
        "invalid_transition",
    )
    assert stock_of(session, market.tea) == 10
    with pytest.raises(errors.InvalidTransition):
        _pay(session, order["id"])


def test_only_the_buyer_or_an_operator_may_cancel(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 1))
    assert_problem(market.api.post(f"/orders/{order['id']}/cancel", as_=market.tea_owner), 403)
    assert_problem(market.api.post(f"/orders/{order['id']}/cancel", as_=market.carpet_owner), 404)
    assert_problem(market.api.post(f"/orders/{order['id']}/cancel"), 401)
    operator = market.api.user("Ops")
    make_operator(session, operator)
    assert (
        market.api.post(f"/orders/{order['id']}/cancel", as_=operator).get_json()["status"]
        == "cancelled"
    )


def test_a_paid_order_is_cancelled_only_with_a_refund(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 2))
    _pay(session, order["id"])
    assert_problem(
        market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer),
        409,
        "refund_unavailable",
    )
    assert stock_of(session, market.tea) == 8
    refunded: list[str] = []
    view = lifecycle.cancel_order(
        session,
        _user(session, market.buyer.id),
        order["id"],
        now=utcnow(),
        refund=lambda _session, paid: refunded.append(paid.id),
    )
    assert view.order.status == "cancelled" and refunded == [order["id"]]
    assert stock_of(session, market.tea) == 10


def test_a_dispatched_order_cannot_be_cancelled(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    _pay(session, order["id"])
    market.api.post(
        f"/shipments/{_shipment(order, market.tea_seller)}/dispatch",
        json=DISPATCH,
        as_=market.tea_owner,
    )
    assert_problem(
        market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer),
        409,
        "invalid_transition",
    )


def _age(session: Session, order_id: str) -> None:
    session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(expires_at=utcnow() - dt.timedelta(seconds=1))
    )
    session.flush()


def test_an_unpaid_order_expires_when_read_and_its_stock_comes_back(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 3))
    _age(session, order["id"])
    assert stock_of(session, market.tea) == 7
    body = market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()
    assert body["status"] == "expired" and {s["status"] for s in body["shipments"]} == {"cancelled"}
    assert stock_of(session, market.tea) == 10
    assert (
        market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()["status"] == "expired"
    )
    assert stock_of(session, market.tea) == 10
    with pytest.raises(errors.InvalidTransition):
        _pay(session, order["id"])
    assert_problem(market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer), 409)


def test_the_expire_command_sweeps_every_overdue_order(
    app: Flask, market: Market, session: Session
) -> None:
    overdue = market.placed((market.tea, 3))
    fresh = market.placed((market.carpet, 1))
    _age(session, overdue["id"])
    result = app.test_cli_runner().invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert "1 orders expired" in result.output
    session.expire_all()
    statuses = dict(
        session.execute(
            select(Order.id, Order.status).where(Order.id.in_([overdue["id"], fresh["id"]]))
        ).all()
    )
    assert statuses == {overdue["id"]: "expired", fresh["id"]: "pending_payment"}
    assert stock_of(session, market.tea) == 10 and stock_of(session, market.carpet) == 2


def test_a_paid_order_never_expires(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 3))
    _pay(session, order["id"])
    _age(session, order["id"])
    assert expiry.expire_due(session, utcnow()) == []
    assert market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()["status"] == "paid"
    assert stock_of(session, market.tea) == 7


def test_refunds_are_recorded_by_the_payments_package(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 1))
    with pytest.raises(errors.InvalidTransition):
        lifecycle.mark_refunded(session, order["id"], now=utcnow(), partially=True)
    _pay(session, order["id"])
    assert (
        lifecycle.mark_refunded(session, order["id"], now=utcnow(), partially=True).status
        == "partially_refunded"
    )
    assert (
        lifecycle.mark_refunded(session, order["id"], now=utcnow(), partially=False).status
        == "refunded"
    )


def test_payments_learn_the_amount_due_and_each_sellers_share(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    buyer = _user(session, market.buyer.id)
    found, amount = lifecycle.payable_order(session, buyer, order["id"], now=utcnow())
    assert found.id == order["id"] and amount.to_api() == order["totals"]["grand_total"]
    shares = queries.seller_shares(session, order["id"])
    assert {share.seller_id for share in shares} == {market.tea_seller, market.carpet_seller}
    assert sum((share.paid for share in shares[1:]), shares[0].paid) == amount
    tea = next(share for share in shares if share.seller_id == market.tea_seller)
    assert tea.goods_seller.to_api() == {"amount": "128.00", "currency": "CNY"}
    with pytest.raises(NotFound):
        lifecycle.payable_order(
            session, _user(session, market.tea_owner.id), order["id"], now=utcnow()
        )
    _pay(session, order["id"])
    with pytest.raises(errors.InvalidTransition):
        lifecycle.payable_order(session, buyer, order["id"], now=utcnow())


def test_sellers_listing_shipments_see_overdue_orders_expired(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 2))
    _age(session, order["id"])
    items = market.api.get("/shipments", as_=market.tea_owner).get_json()["items"]
    assert [(item["order_status"], item["status"]) for item in items] == [("expired", "cancelled")]
    assert stock_of(session, market.tea) == 10


@dataclass(frozen=True)
class _Change:
    order_id: str
    payment_id: str
    amount: Money
    refunded: Money


def test_payment_events_pay_and_refund_the_order(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 1))
    total = Money.of(order["totals"]["grand_total"]["amount"], "KZT")
    payment_events.on_payment_succeeded(
        session, _Change(order["id"], "pay_9", total, Money.zero("KZT"))
    )
    assert session.get(Order, order["id"]).status == "paid"  # type: ignore[union-attr]
    half = Money.of("1.00", "KZT")
    payment_events.on_refunded(session, _Change(order["id"], "pay_9", total, half))
    assert session.get(Order, order["id"]).status == "partially_refunded"  # type: ignore[union-attr]
    payment_events.on_refunded(session, _Change(order["id"], "pay_9", total, total))
    assert session.get(Order, order["id"]).status == "refunded"  # type: ignore[union-attr]
