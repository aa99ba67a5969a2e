"""Webhooks end to end: an order placed and paid through the API reaches a real receiver on
loopback, signed per Standard Webhooks and verified with the `standardwebhooks` package as a
receiver would; retries keep the webhook-id; a rolled-back change sends nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook, WebhookVerificationError

from marketplace.db import utcnow
from marketplace.events import dispatch
from marketplace.events.models import EndpointStatus, SendStatus, WebhookDelivery, WebhookEndpoint
from marketplace.events.transport import HttpSender
from marketplace.outbox import EventType, OutboxEvent, record
from tests.events.receiver import Receiver
from tests.factories import Market, make_operator
from tests.helpers import Caller, assert_problem


def _operator(market: Market) -> Caller:
    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    return operator


def _endpoint(market: Market, owner: Caller, url: str, events: list[str], **extra: Any) -> Any:
    response = market.api.post(
        "/webhook-endpoints", json={"url": url, "events": events, **extra}, as_=owner
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _pay_by_transfer(market: Market, order_id: str, operator: Caller) -> None:
    started = market.api.post(
        f"/orders/{order_id}/payments", json={"gateway": "manual"}, as_=market.buyer
    )
    assert started.status_code == 201, started.get_json()
    captured = market.api.post(f"/payments/{started.get_json()['id']}/capture", as_=operator)
    assert captured.status_code == 200, captured.get_json()


def _verified(secret: str, received: Any) -> dict[str, Any]:
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


def test_an_order_placed_and_paid_reaches_the_receiver_signed(
    market: Market, receiver: Receiver
) -> None:
    operator = _operator(market)
    endpoint = _endpoint(market, operator, receiver.url, ["order.placed", "order.paid"])
    assert endpoint["secret"].startswith("whsec_") and endpoint["seller_id"] is None

    order = market.placed((market.tea, 2), (market.carpet, 1))
    _pay_by_transfer(market, order["id"], operator)

    first, second = receiver.wait_for(2)
    placed, paid = _verified(endpoint["secret"], first), _verified(endpoint["secret"], second)
    assert [placed["type"], paid["type"]] == ["order.placed", "order.paid"]
    assert placed["data"]["id"] == paid["data"]["id"] == order["id"]
    assert placed["data"]["status"] == "pending_payment" or placed["data"]["status"] == "paid"
    assert paid["data"]["status"] == "paid"
    assert paid["data"]["totals"] == order["totals"]  # the order as the API serves it
    assert first.headers["webhook-id"] == placed["id"] != paid["id"]
    with pytest.raises(WebhookVerificationError):  # a receiver with another secret refuses it
        Webhook("whsec_" + "A" * 43 + "=").verify(first.body, first.headers)


def test_a_sellers_endpoint_hears_only_of_its_own_shipments(
    market: Market, receiver: Receiver
) -> None:
    endpoint = _endpoint(market, market.tea_owner, receiver.url, ["order.placed"])
    assert endpoint["seller_id"] == market.tea_seller  # the owner's only seller

    market.placed((market.carpet, 1))  # none of the tea seller's
    order = market.placed((market.tea, 1), (market.carpet, 1))
    (received,) = receiver.wait_for(1)
    data = _verified(endpoint["secret"], received)["data"]
    assert data["id"] == order["id"]
    assert [s["seller_id"] for s in data["shipments"]] == [market.tea_seller]
    assert {line["listing_id"] for line in data["lines"]} == {market.tea}


def test_a_rolled_back_transaction_sends_nothing(
    market: Market, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    operator = _operator(market)
    _endpoint(market, operator, receiver.url, ["order.placed"])
    events_before = market.session.scalar(select(func.count()).select_from(OutboxEvent))

    # A request that fails (not enough stock) rolls its order and its event back together.
    assert_problem(market.order((market.carpet, 5)), 409, "insufficient_stock")
    with session_factory() as other:
        record(other, EventType.ORDER_PLACED, order_id="never-committed")
        other.flush()
        other.rollback()

    jobs = market.api.client.application.extensions["marketplace"]["jobs"]
    jobs.hand_on()
    market.session.expire_all()
    assert market.session.scalar(select(func.count()).select_from(OutboxEvent)) == events_before
    assert market.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert receiver.received == []


def _delivery_for(market: Market, receiver: Receiver, statuses: list[int]) -> tuple[str, str]:
    """An endpoint, an order placed with the receiver answering `statuses` in turn."""
    operator = _operator(market)
    receiver.statuses.extend(statuses)
    endpoint = _endpoint(market, operator, receiver.url, ["order.placed"])
    market.placed((market.tea, 1))
    delivery = market.session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint["id"])
    )
    assert delivery is not None
    return delivery.id, endpoint["secret"]


def test_a_receiver_failing_twice_gets_the_third_delivery_with_the_same_webhook_id(
    market: Market, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    delivery_id, secret = _delivery_for(market, receiver, [500, 503])
    assert len(receiver.received) == 1  # the first attempt, at once, failed

    clock = utcnow()
    sender = HttpSender(allow_private=True)
    for _retry in range(2):  # the worker waits the delay the failed attempt asked for
        market.session.expire_all()
        row = market.session.get(WebhookDelivery, delivery_id)
        assert row is not None and row.status == SendStatus.PENDING.value
        clock = row.next_attempt_at
        dispatch.deliver_webhooks(session_factory, sender, [delivery_id], lambda c=clock: c)

    attempts = receiver.wait_for(3)
    assert [r.headers["webhook-id"] for r in attempts] == [attempts[0].headers["webhook-id"]] * 3
    assert _verified(secret, attempts[0])["type"] == "order.placed"
    # Later attempts are signed at the test's simulated time, which the library would call
    # "too new"; their bodies are the first one's, byte for byte.
    assert [r.body for r in attempts] == [attempts[0].body] * 3
    market.session.expire_all()
    row = market.session.get(WebhookDelivery, delivery_id)
    assert row is not None
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)


def test_retries_last_more_than_a_day_then_the_endpoint_is_marked_failing(
    market: Market, receiver: Receiver, session_factory: sessionmaker[Session]
) -> None:
    delivery_id, _secret = _delivery_for(market, receiver, [500] * 20)
    first_attempt = utcnow()
    sender = HttpSender(allow_private=True)
    clock = first_attempt
    while True:
        market.session.expire_all()
        row = market.session.get(WebhookDelivery, delivery_id)
        assert row is not None
        if row.status != SendStatus.PENDING.value:
            break
        clock = row.next_attempt_at
        dispatch.deliver_webhooks(session_factory, sender, [delivery_id], lambda c=clock: c)
    assert row.status == SendStatus.FAILED.value
    assert row.attempts == len(dispatch.RETRY_DELAYS) == len(receiver.received)
    assert clock - first_attempt >= dt.timedelta(hours=24)
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    assert len(gaps) == len(dispatch.RETRY_DELAYS) - 1
    endpoint = market.session.get(WebhookEndpoint, row.endpoint_id)
    assert endpoint is not None and endpoint.status == EndpointStatus.FAILING.value

    # The owner retries by hand once the receiver is fixed: delivered, the endpoint active again.
    receiver.statuses.clear()
    owner = market.session.get(WebhookEndpoint, row.endpoint_id)
    assert owner is not None
    log = market.api.get(f"/webhook-endpoints/{owner.id}/deliveries", as_=_caller_of(market, owner))
    assert log.status_code == 200
    (entry,) = log.get_json()["items"]
    assert entry["status"] == "failed" and entry["attempts"] == len(dispatch.RETRY_DELAYS)
    assert entry["last_status"] == 500 and entry["next_attempt_at"] is None
    retried = market.api.post(
        f"/webhook-endpoints/{owner.id}/deliveries/{delivery_id}/retry",
        as_=_caller_of(market, owner),
    )
    assert retried.status_code == 202, retried.get_json()
    assert receiver.received[-1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]
    shown = market.api.get(f"/webhook-endpoints/{owner.id}", as_=_caller_of(market, owner))
    assert shown.get_json()["status"] == "active"
    assert (
        market.api.get(
            f"/webhook-endpoints/{owner.id}/deliveries", as_=_caller_of(market, owner)
        ).get_json()["items"][0]["status"]
        == "delivered"
    )


_CALLERS: dict[str, Caller] = {}


def _caller_of(market: Market, endpoint: WebhookEndpoint) -> Caller:
    """A token for the operator who created the endpoint (tests keep one per endpoint)."""
    if endpoint.id not in _CALLERS:
        operator = _operator(market)
        _CALLERS[endpoint.id] = operator
    return _CALLERS[endpoint.id]


@pytest.mark.usefixtures("sdr_rate")
def test_each_state_change_of_an_order_reaches_an_endpoint_that_asked_for_everything(
    market: Market, receiver: Receiver
) -> None:
    operator = _operator(market)
    endpoint = _endpoint(market, operator, receiver.url, [t.value for t in EventType])
    order = market.placed((market.tea, 8))  # 10 in stock: 2 left, low
    _pay_by_transfer(market, order["id"], operator)
    shipment = order["shipments"][0]["id"]
    dispatched = market.api.post(
        f"/shipments/{shipment}/dispatch",
        json={"carrier": "Kazpost", "tracking_number": "RR1"},
        as_=market.tea_owner,
    )
    assert dispatched.status_code == 200
    refunded = market.api.post(
        f"/orders/{order['id']}/refunds", as_=operator, json={"reason": "damaged"}
    )
    assert refunded.status_code == 201, refunded.get_json()
    cancelled = market.placed((market.carpet, 1))
    assert market.api.post(f"/orders/{cancelled['id']}/cancel", as_=market.buyer).status_code == 200

    payloads = [_verified(endpoint["secret"], r) for r in receiver.wait_for(9)]
    by_type = {p["type"]: p["data"] for p in payloads}
    assert set(by_type) == {
        "order.placed",
        "listing.low_stock",
        "payment.created",
        "order.paid",
        "shipment.dispatched",
        "refund.created",
        "order.cancelled",
        "documents.issued",
    }
    kinds = {(d["kind"], d["language"]) for d in by_type["documents.issued"]["documents"]}
    assert ("commercial_invoice", "zh-Hans") in kinds
    assert by_type["listing.low_stock"]["id"] == market.tea
    assert by_type["listing.low_stock"]["stock"] == 2
    # The bank transfer as it was chosen: still awaited, with where and by when to pay.
    assert by_type["payment.created"]["status"] == "pending"
    assert by_type["payment.created"]["instructions"]["reference"] == order["number"]
    assert by_type["shipment.dispatched"]["tracking_number"] == "RR1"
    assert by_type["refund.created"]["order_id"] == order["id"]
    assert by_type["order.cancelled"]["status"] == "cancelled"


def test_a_refund_of_one_sellers_shipment_is_told_to_that_seller_only(
    market: Market, receiver: Receiver
) -> None:
    for owner, path in ((market.tea_owner, "/tea"), (market.carpet_owner, "/carpet")):
        _endpoint(market, owner, receiver.url + path, ["refund.created"])
    operator = _operator(market)
    order = market.placed((market.tea, 1), (market.carpet, 1))
    _pay_by_transfer(market, order["id"], operator)
    carpet_parcel = next(
        s["id"] for s in order["shipments"] if s["seller_id"] == market.carpet_seller
    )
    refunded = market.api.post(
        f"/orders/{order['id']}/refunds",
        as_=market.carpet_owner,
        json={"shipment_id": carpet_parcel, "reason": "torn"},
    )
    assert refunded.status_code == 201, refunded.get_json()
    (received,) = receiver.wait_for(1)
    assert received.path == "/hooks/carpet"
    assert json.loads(received.body)["data"]["shipment_id"] == carpet_parcel
