"""Who sees what: buyers their orders, sellers their own shipments, designated brokers theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.orders import declarations
from tests.factories import Market, make_listing, make_operator
from tests.helpers import assert_problem, count_statements


def _shipment(order: dict[str, Any], seller_id: str) -> str:
    return next(s["id"] for s in order["shipments"] if s["seller_id"] == seller_id)


def test_the_buyer_sees_the_whole_order_and_each_seller_only_their_part(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    whole = market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()
    assert whole == order | {"status": "pending_payment"}
    tea_view = market.api.get(f"/orders/{order['id']}", as_=market.tea_owner).get_json()
    assert [s["seller_id"] for s in tea_view["shipments"]] == [market.tea_seller]
    assert [line["listing_id"] for line in tea_view["lines"]] == [market.tea]
    tea_parcel = tea_view["shipments"][0]
    assert tea_view["totals"]["goods"] == tea_parcel["goods"]
    carpet_view = market.api.get(f"/orders/{order['id']}", as_=market.carpet_owner).get_json()
    assert [line["listing_id"] for line in carpet_view["lines"]] == [market.carpet]
    stranger = market.api.user("Stranger")
    for caller in (stranger, market.broker):
        assert_problem(market.api.get(f"/orders/{order['id']}", as_=caller), 404)
    assert_problem(market.api.get("/orders/does-not-exist", as_=market.buyer), 404)
    assert_problem(market.api.get(f"/orders/{order['id']}"), 401)
    operator = market.api.user("Operator")
    make_operator(session, operator)
    assert len(market.api.get(f"/orders/{order['id']}", as_=operator).get_json()["shipments"]) == 2


def test_order_lists_show_each_caller_their_own_orders(market: Market, session: Session) -> None:
    both = market.placed((market.tea, 1), (market.carpet, 1))
    tea_only = market.placed((market.tea, 1))
    other_buyer = market.api.user("Other")
    carpet_only = market.placed((market.carpet, 1), as_=other_buyer)

    def ids(caller: Any) -> list[str]:
        response = market.api.get("/orders", as_=caller)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids(market.buyer) == [tea_only["id"], both["id"]]
    assert ids(other_buyer) == [carpet_only["id"]]
    assert ids(market.tea_owner) == [tea_only["id"], both["id"]]
    assert ids(market.carpet_owner) == [carpet_only["id"], both["id"]]
    assert ids(market.broker) == []
    items = market.api.get("/orders", as_=market.carpet_owner).get_json()["items"]
    assert all(line["listing_id"] == market.carpet for item in items for line in item["lines"])


def test_order_lists_are_paged_with_a_stable_cursor(market: Market) -> None:
    placed = [market.placed((market.tea, 1))["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = market.api.get("/orders", query_string=query, as_=market.buyer).get_json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        market.placed((market.tea, 1))  # a new order does not shift the pages being read
    assert seen == list(reversed(placed)) and pages == 3
    for bad in ({"cursor": "garbage"}, {"limit": 0}, {"limit": 101}, {"cursor": "W10"}):
        assert_problem(market.api.get("/orders", query_string=bad, as_=market.buyer), 422)


def test_listing_orders_and_shipments_takes_the_same_queries_for_any_page_size(
    market: Market, session: Session, connection: Connection
) -> None:
    rug = make_listing(
        session, market.carpet_seller, price_minor=90_000, currency="TRY", stock=50, title="Rug"
    )
    market.placed((market.tea, 1), (rug, 1))

    def queries(path: str, caller: Any, **query: str) -> int:
        with count_statements(connection) as statements:
            response = market.api.get(path, query_string={"limit": 50, **query}, as_=caller)
            assert response.status_code == 200
        return len(statements)

    few = (
        queries("/orders", market.buyer),
        queries("/orders", market.tea_owner),
        queries("/shipments", market.tea_owner),
        queries("/shipments", market.buyer),
        queries("/orders", market.buyer, status="pending_payment"),
    )
    for _ in range(6):
        market.placed((market.tea, 1), (rug, 1))
    many = (
        queries("/orders", market.buyer),
        queries("/orders", market.tea_owner),
        queries("/shipments", market.tea_owner),
        queries("/shipments", market.buyer),
        queries("/orders", market.buyer, status="pending_payment"),
    )
    assert few == many


def test_shipments_are_listed_for_their_buyer_seller_members_and_designated_brokers(
    market: Market, session: Session
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    second = market.placed(
        (market.tea, 2), ship_to={"line1": "1 Amir Temur", "city": "Tashkent", "country": "UZ"}
    )
    tea_parcel = _shipment(order, market.tea_seller)

    def ids(caller: Any, **query: Any) -> list[str]:
        response = market.api.get("/shipments", query_string=query, as_=caller)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids(market.tea_owner) == [second["shipments"][0]["id"], tea_parcel]
    assert ids(market.tea_owner, to_country="KZ") == [tea_parcel]
    assert ids(market.tea_owner, status="ready") == []
    assert ids(market.broker) == [] and ids(api_user := market.api.user("Stranger")) == []
    assert len(ids(market.buyer)) == 3 and ids(api_user, to_country="UZ") == []
    assert (
        market.api.put(
            f"/shipments/{tea_parcel}/broker",
            json={"brokerage_id": market.brokerage},
            as_=market.buyer,
        ).status_code
        == 200
    )
    assert ids(market.broker) == [tea_parcel]
    item = market.api.get("/shipments", as_=market.broker).get_json()["items"][0]
    assert item["ship_to"]["city"] == "Almaty" and item["order_number"] == order["number"]
    assert [line["listing_id"] for line in item["lines"]] == [market.tea]
    for bad in ({"status": "lost"}, {"to_country": "XX"}, {"limit": "many"}):
        assert_problem(market.api.get("/shipments", query_string=bad, as_=market.tea_owner), 422)


def test_a_shipment_is_readable_by_its_buyer_seller_and_designated_broker_only(
    market: Market,
) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    tea_parcel = _shipment(order, market.tea_seller)
    assert market.api.get(f"/shipments/{tea_parcel}", as_=market.buyer).status_code == 200
    assert (
        market.api.get(f"/shipments/{tea_parcel}", as_=market.tea_owner).get_json()["lines"][0][
            "listing_id"
        ]
        == market.tea
    )
    assert_problem(market.api.get(f"/shipments/{tea_parcel}", as_=market.carpet_owner), 404)
    assert_problem(market.api.get(f"/shipments/{tea_parcel}", as_=market.broker), 404)
    response = market.api.put(
        f"/shipments/{tea_parcel}/broker",
        json={"brokerage_id": market.brokerage},
        as_=market.tea_owner,
    )
    assert response.status_code == 200 and response.get_json()["brokerage_id"] == market.brokerage
    assert market.api.get(f"/shipments/{tea_parcel}", as_=market.broker).status_code == 200
    # The broker reads the shipment, not the order.
    assert_problem(market.api.get(f"/orders/{order['id']}", as_=market.broker), 404)


def test_only_the_buyer_or_seller_designates_a_serving_brokerage(market: Market) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1))
    tea_parcel = _shipment(order, market.tea_seller)
    body = {"brokerage_id": market.brokerage}
    assert_problem(
        market.api.put(f"/shipments/{tea_parcel}/broker", json=body, as_=market.carpet_owner), 404
    )
    assert_problem(
        market.api.put(f"/shipments/{tea_parcel}/broker", json=body, as_=market.broker), 404
    )
    tr_only = market.api.brokerage(market.broker, name="Istanbul", countries=["TR"])["id"]
    assert_problem(
        market.api.put(
            f"/shipments/{tea_parcel}/broker", json={"brokerage_id": tr_only}, as_=market.buyer
        ),
        422,
        "brokerage_not_serving",
    )
    assert_problem(
        market.api.put(
            f"/shipments/{tea_parcel}/broker", json={"brokerage_id": "nope"}, as_=market.buyer
        ),
        422,
        "brokerage_unknown",
    )
    assert_problem(
        market.api.put(f"/shipments/{tea_parcel}/broker", json={}, as_=market.buyer), 422
    )
    assert (
        market.api.get(f"/shipments/{tea_parcel}", as_=market.buyer).get_json()["brokerage_id"]
        is None
    )


def test_declaration_data_for_documents(market: Market, session: Session) -> None:
    order = market.placed((market.tea, 2))
    data = declarations.declaration_data(session, _shipment(order, market.tea_seller), now=utcnow())
    assert data.invoice_number == order["shipments"][0]["number"]
    assert data.exporter.name == "Hangzhou Tea" and data.importer_name == "Nursultan"
    item = data.items[0]
    assert (item.hs_code, item.quantity, item.net_weight_grams, item.origin_country) == (
        "090210",
        2,
        1_000,
        "CN",
    )
    assert item.total_value == item.unit_value * 2


def test_an_operator_lists_every_order_whole(market: Market, session: Session) -> None:
    first = market.placed((market.tea, 1), (market.carpet, 1))
    other = market.placed((market.tea, 1), as_=market.api.user("Another buyer"))
    operator = market.api.user("Operator")
    make_operator(session, operator)
    items = market.api.get("/orders", as_=operator).get_json()["items"]
    mine = [item for item in items if item["id"] in {first["id"], other["id"]}]
    assert [item["id"] for item in mine] == [other["id"], first["id"]]
    assert len(mine[1]["shipments"]) == 2 and len(mine[1]["lines"]) == 2
