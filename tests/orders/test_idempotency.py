"""Idempotency-Key: the same key and body give the first response; another body is a 409."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.orders import idempotency
from marketplace.orders.models import IdempotencyKey, Order
from tests.factories import Market, stock_of
from tests.helpers import assert_problem

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _orders(session: Session, buyer_id: str) -> int:
    return (
        session.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == buyer_id))
        or 0
    )


def test_a_retried_order_is_placed_once_and_answered_the_same(
    market: Market, session: Session
) -> None:
    headers = {"Idempotency-Key": "3f1c-retry-1"}
    first = market.order((market.tea, 2), headers=headers)
    again = market.order((market.tea, 2), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _orders(session, market.buyer.id) == 1
    assert stock_of(session, market.tea) == 8


def test_the_same_key_with_another_body_is_a_conflict(market: Market, session: Session) -> None:
    headers = {"Idempotency-Key": "key-2"}
    assert market.order((market.tea, 1), headers=headers).status_code == 201
    assert_problem(market.order((market.tea, 2), headers=headers), 409, "idempotency_key_reused")
    assert _orders(session, market.buyer.id) == 1
    assert stock_of(session, market.tea) == 9


def test_keys_belong_to_their_caller(market: Market, session: Session) -> None:
    other = market.api.user("Other buyer")
    headers = {"Idempotency-Key": "shared-key"}
    assert market.order((market.tea, 1), headers=headers).status_code == 201
    assert market.order((market.tea, 1), headers=headers, as_=other).status_code == 201
    assert stock_of(session, market.tea) == 8


def test_a_failed_request_keeps_no_key_so_a_retry_does_the_work(
    market: Market, session: Session
) -> None:
    headers = {"Idempotency-Key": "after-restock"}
    assert_problem(market.order((market.carpet, 4), headers=headers), 409, "insufficient_stock")
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    assert market.order((market.carpet, 3), headers=headers).status_code == 201


def test_a_malformed_key_is_refused(market: Market) -> None:
    assert_problem(market.order((market.tea, 1), headers={"Idempotency-Key": "has space"}), 422)
    assert_problem(market.order((market.tea, 1), headers={"Idempotency-Key": "k" * 256}), 422)


def test_the_documented_key_pattern_is_the_one_enforced(market: Market) -> None:
    """A client validating against the OpenAPI document never sends a key the server refuses."""
    document = market.api.client.get("/api/v1/openapi.json").get_json()
    parameter = next(
        p
        for p in document["paths"]["/api/v1/orders"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    pattern = re.compile(parameter["schema"]["pattern"])
    for key in ("has space", "ключ", "tab\t"):
        assert not pattern.match(key)
        assert_problem(
            market.order(
                (market.tea, 1), headers={"Idempotency-Key": key.encode().decode("latin-1")}
            ),
            422,
        )
    assert pattern.match("order-2026-11-28T12:00:00Z~1")


def test_body_key_order_does_not_change_the_fingerprint() -> None:
    one = idempotency.fingerprint("POST", "/api/v1/orders", {"a": 1, "b": [1, 2]})
    two = idempotency.fingerprint("post", "/api/v1/orders", {"b": [1, 2], "a": 1})
    assert one == two
    assert one != idempotency.fingerprint("POST", "/api/v1/orders", {"a": 1, "b": [2, 1]})
    assert one != idempotency.fingerprint(
        "POST", "/api/v1/orders/x/payments", {"a": 1, "b": [1, 2]}
    )


def test_keys_are_kept_a_day_then_purged_and_reusable(session: Session) -> None:
    record = idempotency.claim(session, caller="u1", key="k", fingerprint="f1", now=NOW)
    assert isinstance(record, IdempotencyKey)
    assert record.expires_at - NOW >= dt.timedelta(hours=24)
    idempotency.complete(session, record, 201, {"id": "first"})
    later = NOW + dt.timedelta(hours=23)
    assert idempotency.claim(session, caller="u1", key="k", fingerprint="f1", now=later) == (
        idempotency.StoredResponse(201, {"id": "first"})
    )
    with pytest.raises(idempotency.IdempotencyKeyReused):
        idempotency.claim(session, caller="u1", key="k", fingerprint="f2", now=later)
    assert idempotency.purge_expired(session, NOW + dt.timedelta(hours=26)) == 1
    fresh = idempotency.claim(
        session, caller="u1", key="k", fingerprint="f2", now=NOW + dt.timedelta(hours=26)
    )
    assert isinstance(fresh, IdempotencyKey)


def test_an_expired_key_is_reused_without_waiting_for_the_purge(session: Session) -> None:
    record = idempotency.claim(session, caller="u1", key="k", fingerprint="f1", now=NOW)
    assert isinstance(record, IdempotencyKey)
    idempotency.complete(session, record, 201, {"id": "first"})
    fresh = idempotency.claim(
        session, caller="u1", key="k", fingerprint="f2", now=NOW + dt.timedelta(days=2)
    )
    assert isinstance(fresh, IdempotencyKey) and fresh.fingerprint == "f2"
