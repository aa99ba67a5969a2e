"""A buyer's order history: filtered by status and creation time; the shipments of their orders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace.orders.models import Order
from tests.factories import Market
from tests.helpers import assert_problem


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _created(session: Session, order_id: str, moment: dt.datetime) -> None:
    session.execute(update(Order).where(Order.id == order_id).values(created_at=moment))
    session.flush()


def test_history_is_filtered_by_status_and_creation_time(market: Market, session: Session) -> None:
    api, buyer = market.api, market.buyer
    old = market.placed((market.tea, 1))
    middle = market.placed((market.tea, 1))
    new = market.placed((market.carpet, 1))
    _created(session, old["id"], dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC))
    _created(session, middle["id"], dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC))
    assert api.post(f"/orders/{middle['id']}/cancel", as_=buyer).status_code == 200

    assert _ids(api.get("/orders", as_=buyer)) == [new["id"], middle["id"], old["id"]]
    assert _ids(api.get("/orders?status=cancelled", as_=buyer)) == [middle["id"]]
    assert _ids(api.get("/orders?status=pending_payment", as_=buyer)) == [new["id"], old["id"]]
    november = {"created_from": "2026-11-01T00:00:00Z", "created_to": "2026-12-01T00:00:00+00:00"}
    assert _ids(api.get("/orders", query_string=november, as_=buyer)) == [middle["id"]]
    assert _ids(api.get("/orders?created_to=2026-11-01T12:00:00Z", as_=buyer)) == [old["id"]]
    assert _ids(api.get("/orders?created_from=2026-11-01T12:00:00Z", as_=buyer)) == [
        new["id"],
        middle["id"],
    ]
    paged = api.get("/orders?status=pending_payment&limit=1", as_=buyer).get_json()
    assert [o["id"] for o in paged["items"]] == [new["id"]]
    rest = api.get(
        "/orders",
        query_string={"status": "pending_payment", "limit": 1, "cursor": paged["next_cursor"]},
        as_=buyer,
    )
    assert _ids(rest) == [old["id"]]
    # Another buyer's history holds none of them, whatever the filter.
    assert _ids(api.get("/orders?status=cancelled", as_=api.user("Other"))) == []


def test_bad_history_filters_are_refused(market: Market) -> None:
    for query in (
        {"colour": "red"},
        {"status": "lost"},
        {"created_from": "yesterday"},
        {"created_from": "2026-12-01T00:00:00Z", "created_to": "2026-11-01T00:00:00Z"},
        {"limit": "0"},
    ):
        problem = assert_problem(
            market.api.get("/orders", query_string=query, as_=market.buyer), 422, "invalid"
        )
        assert problem["errors"], problem


def test_a_buyer_lists_the_shipments_of_their_orders(market: Market) -> None:
    api = market.api
    order = market.placed((market.tea, 1), (market.carpet, 1))
    mine = api.get("/shipments", as_=market.buyer).get_json()["items"]
    assert {s["id"] for s in mine} == {s["id"] for s in order["shipments"]}
    assert all(s["order_id"] == order["id"] for s in mine)
    tea_only = api.get("/shipments", as_=market.tea_owner).get_json()["items"]
    assert [s["seller_id"] for s in tea_only] == [market.tea_seller]
    assert api.get("/shipments", as_=api.user("Other")).get_json()["items"] == []
