"""Listing variants end to end through the HTTP API: a seller sets them, the catalogue shows them
in the reader's language and currency, and carts, orders, reservations, customs declarations
and documents (their PDF text) work per variant."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalogue.models import ListingVariant
from marketplace.db import utcnow
from marketplace.orders import lifecycle
from marketplace.outbox import OutboxEvent
from tests.customs.pdf import pdf_text
from tests.factories import ADDRESS, ORDER_RATES, Market, make_listing, store_rates
from tests.helpers import assert_problem

SMALL = {"sku": "TEA-S", "options": {"size": "S"}, "stock": 5, "weight_grams": 120}
LARGE = {
    "sku": "TEA-L",
    "options": {"size": "L"},
    "stock": 4,
    "price": {"amount": "250.00", "currency": "CNY"},
    "weight_grams": 550,
    "hs_code": "0902.30",
}


def _sized_tea(market: Market) -> dict[str, str]:
    """The market's tea (128.00 CNY, 500 g, HS 090210) in two sizes, S and L, named in Russian."""
    api, owner, tea = market.api, market.tea_owner, market.tea
    response = api.patch(f"/listings/{tea}", json={"option_axes": ["size"]}, as_=owner)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["option_axes"] == ["size"]
    response = api.put(f"/listings/{tea}/variants", json=[SMALL, LARGE], as_=owner)
    assert response.status_code == 200, response.get_json()
    response = api.put(
        f"/listings/{tea}/translations/ru",
        json={
            "title": "Лунцзин",
            "options": {"size": {"name": "Размер", "values": {"S": "Маленький"}}},
        },
        as_=owner,
    )
    assert response.status_code == 200, response.get_json()
    return {variant["sku"]: variant["id"] for variant in response_variants(market)}


def response_variants(market: Market) -> list[dict[str, Any]]:
    response = market.api.get(f"/listings/{market.tea}/variants", as_=market.tea_owner)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_catalogue_shows_each_variant_in_the_readers_language_and_currency(
    market: Market,
) -> None:
    ids = _sized_tea(market)
    # Kazakh first (no translation), Russian second: the Russian names are served.
    response = market.api.get(
        f"/catalogue/{market.tea}",
        query_string={"currency": "CNY"},
        headers={"Accept-Language": "kk, ru;q=0.8"},
    )
    assert response.status_code == 200, response.get_json()
    item = response.get_json()
    assert item["title"] == "Лунцзин"
    assert [
        (v["id"], v["options"], v["price"]["amount"], v["available"]) for v in item["variants"]
    ] == [
        (ids["TEA-S"], {"Размер": "Маленький"}, "128.00", 5),  # the listing's price
        (ids["TEA-L"], {"Размер": "L"}, "250.00", 4),  # an untranslated value stays the seller's
    ]
    assert item["available"] == 9
    english = market.api.get(f"/catalogue/{market.tea}", headers={"Accept-Language": "en"})
    assert [v["options"] for v in english.get_json()["variants"]] == [
        {"size": "S"},
        {"size": "L"},
    ]
    page = market.api.get("/catalogue", query_string={"currency": "KZT", "in_stock": "true"})
    tea = next(i for i in page.get_json()["items"] if i["id"] == market.tea)
    assert [v["price"]["currency"] for v in tea["variants"]] == ["KZT", "KZT"]


def test_an_order_of_two_variants_and_another_sellers_listing_reserves_prices_declares_and_documents_each(
    market: Market, session: Session
) -> None:
    ids = _sized_tea(market)
    # The CN 22 / CN 23 choice needs an SDR rate on the order's rate set.
    store_rates(
        session,
        dataclasses.replace(ORDER_RATES, rates={**ORDER_RATES.rates, "XDR": Decimal("0.85")}),
    )
    body = {
        "currency": "CNY",
        "lines": [
            {"listing_id": market.tea, "variant_id": ids["TEA-S"], "quantity": 2},
            {"listing_id": market.tea, "variant_id": ids["TEA-L"], "quantity": 1},
            {"listing_id": market.carpet, "quantity": 1},  # its only, default variant
        ],
        "ship_to": {**ADDRESS, "name": "Aigerim Seitkali", "phone": "+7 727 123 4567"},
        "incoterm": "DDP",
    }
    response = market.api.post(
        "/orders", json=body, as_=market.buyer, headers={"Accept-Language": "ru"}
    )
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    small, large, carpet = order["lines"]
    assert (small["variant_id"], small["sku"], small["options"]) == (
        ids["TEA-S"],
        "TEA-S",
        {"Размер": "Маленький"},
    )
    assert small["seller_options"] == {"size": "S"}
    assert (small["unit_price"]["amount"], small["weight_grams"], small["hs_code"]) == (
        "128.00",
        120,
        "090210",
    )
    assert (large["unit_price"]["amount"], large["weight_grams"], large["hs_code"]) == (
        "250.00",
        550,
        "090230",
    )
    assert carpet["options"] == {} and carpet["variant_id"] is not None
    tea_shipment = next(s for s in order["shipments"] if s["seller_id"] == market.tea_seller)
    assert tea_shipment["weight_grams"] == 2 * 120 + 550
    assert tea_shipment["goods"]["amount"] == "506.00"
    # Each variant's own stock is reserved.
    assert {v["sku"]: v["stock"] for v in response_variants(market)} == {"TEA-S": 3, "TEA-L": 3}
    # Each variant that fell to the low-stock mark (3 units) is named in its own event.
    low = session.scalars(
        select(OutboxEvent.data).where(OutboxEvent.type == "listing.low_stock")
    ).all()
    assert sorted((e["variant_id"], e["sku"], e["stock"]) for e in low) == sorted(
        [(ids["TEA-S"], "TEA-S", 3), (ids["TEA-L"], "TEA-L", 3)]
    )
    # A listing of several variants needs one named.
    refused = market.order((market.tea, 1))
    assert_problem(refused, 422, "variant_required")
    assert "lines.0.variant_id" in refused.get_json()["errors"]

    lifecycle.mark_paid(session, order["id"], now=utcnow())
    session.flush()
    declaration = market.api.get(f"/shipments/{tea_shipment['id']}/customs", as_=market.buyer)
    assert declaration.status_code == 200, declaration.get_json()
    items = declaration.get_json()["items"]
    assert [(i["variant_id"], i["sku"], i["options"]) for i in items] == [
        (ids["TEA-S"], "TEA-S", {"size": "S"}),
        (ids["TEA-L"], "TEA-L", {"size": "L"}),
    ]
    assert [i["description"] for i in items] == [
        "Longjing green tea (size: S)",
        "Longjing green tea (size: L)",
    ]
    assert [(i["hs_code"], i["net_weight_grams"]) for i in items] == [
        ("090210", 240),
        ("090230", 550),
    ]
    listed = market.api.get(f"/shipments/{tea_shipment['id']}/documents", as_=market.buyer)
    assert listed.status_code == 200, listed.get_json()
    kinds = {d["kind"] for d in listed.get_json()}
    assert {"commercial_invoice", "packing_list"} <= kinds and kinds & {"cn22", "cn23"}
    for kind in kinds:
        document = market.api.get(
            f"/shipments/{tea_shipment['id']}/documents/{kind}",
            query_string={"lang": "en"},
            as_=market.buyer,
        )
        assert document.status_code == 200, document.get_data(as_text=True)
        text = pdf_text(document.data)
        assert "size: S" in text and "size: L" in text, (kind, text)
        assert "090230" in text, kind


def _order_large(market: Market, ids: dict[str, str]) -> Any:
    line = {"listing_id": market.tea, "variant_id": ids["TEA-L"], "quantity": 1}
    body = {"currency": "KZT", "lines": [line], "ship_to": ADDRESS, "incoterm": "DDP"}
    return market.api.post("/orders", json=body, as_=market.buyer)


def test_a_variant_orders_refer_to_is_only_marked_removed_and_keeps_its_history(
    market: Market, session: Session
) -> None:
    ids = _sized_tea(market)
    response = _order_large(market, ids)
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["id"]
    medium = {"sku": "TEA-M", "options": {"size": "M"}, "stock": 7}
    kept_small = {**SMALL, "id": ids["TEA-S"], "stock": 9}
    response = market.api.put(
        f"/listings/{market.tea}/variants", json=[kept_small, medium], as_=market.tea_owner
    )
    assert response.status_code == 200, response.get_json()
    assert [(v["sku"], v["stock"]) for v in response.get_json()] == [("TEA-S", 9), ("TEA-M", 7)]
    assert response.get_json()[0]["id"] == ids["TEA-S"]
    removed = session.get(ListingVariant, ids["TEA-L"])
    assert removed is not None and removed.removed_at is not None  # the order refers to it
    line = market.api.get(f"/orders/{order_id}", as_=market.buyer).get_json()["lines"][0]
    assert (line["variant_id"], line["sku"]) == (ids["TEA-L"], "TEA-L")
    item = market.api.get(f"/catalogue/{market.tea}").get_json()
    assert [v["options"] for v in item["variants"]] == [{"size": "S"}, {"size": "M"}]
    again = _order_large(market, ids)
    assert_problem(again, 422, "listing_unavailable")
    # A variant no order refers to is deleted outright.
    response = market.api.put(
        f"/listings/{market.tea}/variants", json=[medium], as_=market.tea_owner
    )
    assert response.status_code == 200, response.get_json()
    session.expire_all()
    assert session.get(ListingVariant, ids["TEA-S"]) is None


def test_bad_variant_sets_are_problems_naming_each_entry_and_change_nothing(
    market: Market,
) -> None:
    _sized_tea(market)
    before = response_variants(market)
    make_listing(
        market.session, market.tea_seller, price_minor=100, currency="CNY", sku="OTHER-SKU"
    )
    cases: list[tuple[Any, int, str, str]] = [
        ([], 422, "variants_empty", "variants"),
        (
            [SMALL, {**LARGE, "options": {"size": "S"}}],
            422,
            "variant_options_duplicate",
            "variants.1.options",
        ),
        (
            [{**SMALL, "options": {"size": "S", "colour": "red"}}],
            422,
            "variant_axis_unknown",
            "variants.0.options",
        ),
        ([{**SMALL, "options": {}}], 422, "variant_axis_missing", "variants.0.options"),
        ([{**SMALL, "hs_code": "9999.99"}], 422, "hs_code_invalid", "variants.0.hs_code"),
        ([SMALL, {**LARGE, "sku": "TEA-S"}], 422, "sku_duplicate", "variants.1.sku"),
        ([{**SMALL, "id": "no-such-variant"}], 422, "variant_unknown", "variants.0.id"),
        (
            [{**SMALL, "price": {"amount": "1.00", "currency": "EUR"}}],
            422,
            "variant_currency_mismatch",
            "variants.0.price",
        ),
        ([{**SMALL, "sku": "OTHER-SKU"}], 409, "sku_taken", "variants.0.sku"),
        ([{**SMALL, "stock": -1}], 422, "invalid", "0.stock"),
        ({"sku": "x"}, 422, "invalid", ""),
    ]
    for body, status, code, field in cases:
        response = market.api.put(
            f"/listings/{market.tea}/variants", json=body, as_=market.tea_owner
        )
        problem = assert_problem(response, status, code)
        assert response.mimetype == "application/problem+json"
        if field:
            assert any(key.endswith(field) for key in problem["errors"]), (code, problem)
        assert response_variants(market) == before, code
    # Stock is per variant once there are several.
    response = market.api.patch(f"/listings/{market.tea}", json={"stock": 3}, as_=market.tea_owner)
    assert_problem(response, 409, "listing_has_variants")
    # Axes the variants do not use.
    response = market.api.patch(
        f"/listings/{market.tea}", json={"option_axes": ["colour"]}, as_=market.tea_owner
    )
    assert_problem(response, 409, "variant_axes_in_use")
    assert response_variants(market) == before


def test_another_sellers_listing_variants_are_a_404(market: Market) -> None:
    _sized_tea(market)
    path = f"/listings/{market.tea}/variants"
    assert_problem(market.api.get(path, as_=market.carpet_owner), 404, "not_found")
    assert_problem(market.api.put(path, json=[SMALL], as_=market.carpet_owner), 404, "not_found")
    assert_problem(market.api.get(path, as_=market.buyer), 404, "not_found")
    assert_problem(market.api.get(path), 401)
    assert len(response_variants(market)) == 2


def test_a_cart_line_names_a_variant_when_the_listing_has_several(market: Market) -> None:
    ids = _sized_tea(market)
    cart = market.api.post("/carts", json={"currency": "CNY", "ship_to": ADDRESS}, as_=market.buyer)
    assert cart.status_code == 201, cart.get_json()
    path = f"/carts/{cart.get_json()['id']}/lines"
    missing = market.api.post(
        path, json={"listing_id": market.tea, "quantity": 1}, as_=market.buyer
    )
    assert_problem(missing, 422, "variant_required")
    unknown = market.api.post(
        path,
        json={"listing_id": market.tea, "variant_id": "nope", "quantity": 1},
        as_=market.buyer,
    )
    assert_problem(unknown, 422, "listing_unavailable")
    for variant in ("TEA-S", "TEA-L", "TEA-L"):
        added = market.api.post(
            path,
            json={"listing_id": market.tea, "variant_id": ids[variant], "quantity": 1},
            as_=market.buyer,
            headers={"Accept-Language": "ru"},
        )
        assert added.status_code == 201, added.get_json()
    plain = market.api.post(
        path, json={"listing_id": market.carpet, "quantity": 1}, as_=market.buyer
    )
    assert plain.status_code == 201, plain.get_json()
    lines = plain.get_json()["lines"]
    assert [(line["variant_id"], line["quantity"]) for line in lines[:2]] == [
        (ids["TEA-S"], 1),
        (ids["TEA-L"], 2),
    ]
    assert [line["unit_price"]["amount"] for line in lines[:2]] == ["128.00", "250.00"]
    assert lines[2]["variant_id"] is not None  # the carpet's only variant, chosen for the buyer
    stock = market.session.scalar(
        select(ListingVariant.stock).where(ListingVariant.id == ids["TEA-L"])
    )
    assert stock == 4  # a cart reserves nothing


def test_a_quote_prices_the_variant_it_names_as_its_cart_does(market: Market) -> None:
    """`lines=listing.variant:quantity` quotes that variant; a cart of it costs the same."""
    ids = _sized_tea(market)
    large = f"{market.tea}.{ids['TEA-L']}:2"

    def quoted(lines: str) -> Any:
        return market.api.get(
            "/landed-cost", query_string={"to": "KZ", "lines": lines, "currency": "CNY"}
        )

    response = quoted(large)
    assert response.status_code == 200, response.get_json()
    quote = response.get_json()
    assert quote["totals"]["goods"]["amount"] == "500.00"  # 2 × 250.00, L's own price
    first = quoted(f"{market.tea}:2").get_json()  # no variant named: its first, S at 128.00
    assert first["totals"]["goods"]["amount"] == "256.00"
    cart = market.api.post(
        "/carts",
        json={"currency": "CNY", "incoterm": "DDP", "ship_to": ADDRESS},
        as_=market.buyer,
    ).get_json()
    response = market.api.post(
        f"/carts/{cart['id']}/lines",
        json={"listing_id": market.tea, "variant_id": ids["TEA-L"], "quantity": 2},
        as_=market.buyer,
    )
    assert response.status_code == 201, response.get_json()
    totals = response.get_json()["totals"]
    for name in ("goods", "shipping", "duties", "taxes"):
        assert totals[name]["amount"] == quote["totals"][name]["amount"], name
        assert totals[name]["currency"] == "CNY"
    unknown = quoted(f"{market.tea}.not-a-variant:1")
    assert_problem(unknown, 422, "listing_unavailable")
