"""Facet counts: per category, origin, seller and price band, for exactly the query's filters."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marketplace.catalogue.facets import ladder
from marketplace.money import RateTable
from tests.catalogue.conftest import Shop
from tests.helpers import Api, assert_problem


def facets(api: Api, **query: Any) -> dict[str, Any]:
    response = api.get("/catalogue", query_string={"limit": 1, **query})
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json()["facets"])


def test_facets_count_each_value_for_the_same_filters(
    api: Api, shop: Shop, other_shop: Shop, rates: RateTable
) -> None:
    for i, price in enumerate(("12.00", "40.00", "160.00")):  # 1.50, 5.00, 20.00 EUR
        shop.listing(sku=f"TEA{i}", price={"amount": price, "currency": "CNY"})
    shop.listing(sku="KILIM", category="kilims", hs_code="5702.10", origin_country="TR")
    shop.listing(sku="DRAFT", status="draft")
    other_shop.listing(
        sku="FELT",
        category="felt",
        hs_code="5602.10",
        origin_country="KZ",
        price={"amount": "9000", "currency": "KZT"},  # 18.00 EUR
    )
    everything = facets(api, facets="category,origin,seller")
    assert everything["category"] == [
        {"value": "green-tea", "count": 3},
        {"value": "felt", "count": 1},
        {"value": "kilims", "count": 1},
    ]
    assert everything["origin"] == [
        {"value": "CN", "count": 3},
        {"value": "KZ", "count": 1},
        {"value": "TR", "count": 1},
    ]
    assert everything["seller"] == [
        {"value": shop.seller["id"], "name": shop.seller["name"], "count": 4},
        {"value": other_shop.seller["id"], "name": other_shop.seller["name"], "count": 1},
    ]
    assert "price" not in everything
    filtered = facets(api, facets="category,origin", origin="CN")
    assert filtered == {
        "category": [{"value": "green-tea", "count": 3}],
        "origin": [{"value": "CN", "count": 3}],
    }
    assert facets(api, facets="origin", q="no such words anywhere") == {"origin": []}
    # Without ?facets= the page has no facets member at all.
    assert "facets" not in api.get("/catalogue").get_json()


def test_facets_of_a_search_count_the_listings_it_finds(
    api: Api, shop: Shop, other_shop: Shop, rates: RateTable
) -> None:
    shop.listing(sku="SILK", language="en", title="Silk scarf", description="", origin_country="CN")
    shop.listing(sku="WOOL", language="en", title="Wool scarf", description="", origin_country="TR")
    other_shop.listing(sku="TEA", language="en", title="Green tea", description="")
    searched = facets(api, facets="origin,seller,price", q="scarf", currency="EUR", limit=20)
    assert searched["origin"] == [{"value": "CN", "count": 1}, {"value": "TR", "count": 1}]
    assert searched["seller"] == [
        {"value": shop.seller["id"], "name": shop.seller["name"], "count": 2}
    ]
    assert sum(band["count"] for band in searched["price"]) == 2
    both = facets(api, facets="origin", q="silk scarf")
    assert both["origin"] == [{"value": "CN", "count": 1}]


def test_price_bands_are_in_the_display_currency_and_match_the_price_filter(
    api: Api, shop: Shop, other_shop: Shop, rates: RateTable
) -> None:
    for i, price in enumerate(("12.00", "40.00", "160.00", "120.00")):  # 1.50, 5, 20, 15 EUR
        shop.listing(sku=f"TEA{i}", price={"amount": price, "currency": "CNY"})
    other_shop.listing(
        sku="FELT",
        category="felt",
        hs_code="5602.10",
        price={"amount": "9000", "currency": "KZT"},  # 18.00 EUR
    )
    bands = facets(api, facets="price", currency="EUR", locale="en")["price"]
    assert [(b["min"]["amount"], b["max"] and b["max"]["amount"], b["count"]) for b in bands] == [
        ("0.00", "2.00", 1),
        ("5.00", "10.00", 1),
        ("10.00", "20.00", 2),
        ("20.00", None, 1),
    ]
    assert bands[0]["min"]["formatted"] == "€0.00"
    for band in bands:
        query: dict[str, Any] = {"currency": "EUR", "min_price": band["min"]["amount"]}
        if band["max"]:
            query["max_price"] = str(Decimal(band["max"]["amount"]) - Decimal("0.01"))
        found = api.get("/catalogue", query_string=query).get_json()["items"]
        assert len(found) == band["count"]
    in_kzt = facets(api, facets="price", currency="KZT")["price"]
    assert sum(b["count"] for b in in_kzt) == 5 and in_kzt[0]["min"]["currency"] == "KZT"


def test_bad_facet_requests_are_problems(api: Api) -> None:
    assert_problem(api.get("/catalogue", query_string={"facets": "colour"}), 422)
    assert_problem(
        api.get("/catalogue", query_string={"facets": "price"}), 422, "currency_required"
    )


def test_the_band_ladder_stays_short() -> None:
    assert ladder(Decimal("1.5"), Decimal("20")) == [Decimal(n) for n in (0, 2, 5, 10, 20)]
    edges = ladder(Decimal("3"), Decimal("9000000"))
    assert len(edges) <= 8 and edges[0] == 0 and edges[-1] == 1_000_000
