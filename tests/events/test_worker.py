"""Real worker processes (`flask worker`) on the local Redis: a worker killed between commit and
delivery loses nothing, even when the queued task is gone too; the next worker delivers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from marketplace.events.models import SendStatus, WebhookDelivery
from tests.events.committed import Committed, committed_market, kill, redis_or_skip, start_worker
from tests.events.receiver import Receiver, start_receiver


@pytest.fixture
def committed() -> Iterator[Committed]:
    redis_or_skip()
    with committed_market("worker") as market:
        yield market


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def _delivered(committed: Committed, count: int, timeout: float = 30) -> None:
    """Wait until the worker has recorded `count` deliveries as delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(committed.engine) as session:
            statuses = session.scalars(select(WebhookDelivery.status)).all()
        if statuses.count(SendStatus.DELIVERED.value) == count:
            return
        time.sleep(0.05)
    raise AssertionError(f"deliveries: {statuses}")


def _place(committed: Committed, listing: str) -> dict[str, object]:
    response = committed.api.post(
        "/orders", json=committed.order_body(listing), as_=committed.seller_owner
    )
    assert response.status_code == 201, response.get_json()
    body: dict[str, object] = response.get_json()
    return body


def test_killing_the_worker_between_commit_and_delivery_loses_nothing(
    committed: Committed, receiver: Receiver
) -> None:
    created = committed.api.post(
        "/webhook-endpoints",
        json={"url": receiver.url, "events": ["order.placed"]},
        as_=committed.operator,
    )
    secret = created.get_json()["secret"]
    listing = committed.listing(stock=10)
    worker = start_worker(committed.env)
    try:
        first = _place(committed, listing)
        (received,) = receiver.wait_for(1)  # a working worker delivers at once
        assert Webhook(secret).verify(received.body, received.headers)["data"]["id"] == first["id"]
        _delivered(committed, 1)
    finally:
        kill(worker)

    # Committed while no worker runs; then the queued task is lost as well (Redis flushed).
    second = _place(committed, listing)
    committed.app.extensions["marketplace"]["jobs"].huey.flush()
    time.sleep(1)
    assert len(receiver.received) == 1

    worker = start_worker(committed.env)
    try:
        _, late = receiver.wait_for(2)
        _delivered(committed, 2)
    finally:
        kill(worker)
    assert Webhook(secret).verify(late.body, late.headers)["data"]["id"] == second["id"]
