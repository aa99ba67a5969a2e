"""Stock counts: `available` is what can be ordered now; the seller's low-stock threshold."""

from __future__ import annotations

from tests.factories import Market


def available(market: Market, listing_id: str) -> int:
    item = market.api.get(f"/catalogue/{listing_id}").get_json()
    page = market.api.get("/catalogue", query_string={"limit": 100}).get_json()
    listed = next(i for i in page["items"] if i["id"] == listing_id)
    assert listed["available"] == item["available"]
    assert item["in_stock"] == (item["available"] > 0)
    return int(item["available"])


def test_available_drops_when_an_order_reserves_and_comes_back_when_it_is_cancelled(
    market: Market,
) -> None:
    assert available(market, market.tea) == 10
    order = market.placed((market.tea, 4))
    assert available(market, market.tea) == 6
    own = market.api.get(f"/listings/{market.tea}", as_=market.tea_owner).get_json()
    assert own["available"] == own["stock"] == 6
    cancelled = market.api.post(f"/orders/{order['id']}/cancel", as_=market.buyer)
    assert cancelled.status_code == 200, cancelled.get_json()
    assert available(market, market.tea) == 10


def test_a_seller_sets_a_low_stock_threshold_and_sees_when_it_is_reached(market: Market) -> None:
    path = f"/listings/{market.carpet}"
    owner = market.carpet_owner
    listing = market.api.get(path, as_=owner).get_json()
    assert listing["low_stock_threshold"] is None and listing["low_stock"] is False
    changed = market.api.patch(path, json={"low_stock_threshold": 2}, as_=owner).get_json()
    assert changed["low_stock_threshold"] == 2 and changed["low_stock"] is False  # 3 in stock
    market.placed((market.carpet, 1))
    assert market.api.get(path, as_=owner).get_json()["low_stock"] is True
    assert market.api.patch(path, json={"low_stock_threshold": -1}, as_=owner).status_code == 422
    cleared = market.api.patch(path, json={"low_stock_threshold": None}, as_=owner).get_json()
    assert cleared["low_stock"] is False
