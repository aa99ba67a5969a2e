"""Placing an order: shipments per seller, prices in both currencies, locked rates, exact totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.money import Money
from marketplace.orders.models import Order
from tests.factories import ADDRESS, Market, make_listing, stock_of, store_rates
from tests.factories import ORDER_RATES as RATES
from tests.helpers import assert_problem


def _money(data: dict[str, str]) -> Money:
    return Money.of(data["amount"], data["currency"])


def _sum(*amounts: dict[str, str]) -> Money:
    total = Money.zero(amounts[0]["currency"])
    for amount in amounts:
        total += _money(amount)
    return total


def test_an_order_from_two_sellers_is_two_shipments_priced_in_both_currencies(
    market: Market, session: Session, current_rates: str
) -> None:
    order = market.placed((market.tea, 2), (market.carpet, 1))
    assert order["status"] == "pending_payment" and order["currency"] == "KZT"
    assert order["number"].startswith("SR-")
    tea, carpet = order["lines"]
    assert tea["unit_price_seller"] == {"amount": "128.00", "currency": "CNY"}
    assert tea["unit_price"] == RATES.convert(Money.of("128.00", "CNY"), "KZT").to_api()
    assert _money(tea["total"]) == _money(tea["unit_price"]) * 2
    assert carpet["unit_price_seller"] == {"amount": "12500.00", "currency": "TRY"}

    by_seller = {s["seller_id"]: s for s in order["shipments"]}
    assert set(by_seller) == {market.tea_seller, market.carpet_seller}
    tea_parcel = by_seller[market.tea_seller]
    assert (tea_parcel["from_country"], tea_parcel["to_country"]) == ("CN", "KZ")
    assert tea_parcel["weight_grams"] == 1_000
    # 50.00 CNY base + 20.00 CNY per kg for 1 kg, converted once.
    assert tea_parcel["shipping_seller"] == {"amount": "70.00", "currency": "CNY"}
    assert tea_parcel["shipping"] == RATES.convert(Money.of("70", "CNY"), "KZT").to_api()
    assert {line["shipment_id"] for line in order["lines"]} == {s["id"] for s in order["shipments"]}

    assert [(fx["from"], fx["to"]) for fx in order["fx"]] == [("CNY", "KZT"), ("TRY", "KZT")]
    assert Decimal(order["fx"][0]["rate"]) == RATES.quote("CNY", "KZT").rate
    assert all(
        fx["as_of"] == RATES.as_of.isoformat() and fx["source"] == "operator" for fx in order["fx"]
    )
    assert order["rate_set_id"] == current_rates
    assert stock_of(session, market.tea) == 8 and stock_of(session, market.carpet) == 2
    created = dt.datetime.fromisoformat(order["created_at"])
    assert dt.datetime.fromisoformat(order["expires_at"]) - created == dt.timedelta(minutes=30)


def test_ddp_totals_include_duties_and_taxes_and_add_up_exactly(market: Market) -> None:
    order = market.placed((market.tea, 2), (market.carpet, 1), incoterm="DDP")
    totals = order["totals"]
    assert _money(totals["duties"]).amount > 0  # a 12,500 TRY carpet is above the EAEU allowance
    assert _money(totals["grand_total"]) == _sum(
        totals["goods"], totals["shipping"], totals["duties"], totals["taxes"]
    )
    assert _money(totals["due_on_delivery"]).is_zero()
    assert _money(totals["goods"]) == _sum(*(line["total"] for line in order["lines"]))
    assert _money(totals["shipping"]) == _sum(*(s["shipping"] for s in order["shipments"]))


def test_dap_shows_duties_and_taxes_as_due_on_delivery(market: Market) -> None:
    order = market.placed((market.carpet, 1), incoterm="DAP")
    totals = order["totals"]
    assert _money(totals["duties"]).amount > 0
    assert _money(totals["grand_total"]) == _sum(totals["goods"], totals["shipping"])
    assert _money(totals["due_on_delivery"]) == _sum(totals["duties"], totals["taxes"])


def test_an_order_in_the_sellers_own_currency_needs_no_conversion(market: Market) -> None:
    order = market.placed((market.tea, 1), currency="CNY")
    assert order["lines"][0]["unit_price"] == {"amount": "128.00", "currency": "CNY"}
    assert order["fx"] == []


def test_a_three_decimal_currency_keeps_its_minor_units(market: Market) -> None:
    order = market.placed((market.tea, 3), currency="KWD")
    assert len(order["lines"][0]["unit_price"]["amount"].split(".")[1]) == 3
    totals = order["totals"]
    assert _money(totals["grand_total"]) == _sum(
        totals["goods"], totals["shipping"], totals["duties"], totals["taxes"]
    )


def _orders(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Order)) or 0


def _assert_refused(
    market: Market,
    session: Session,
    status: int,
    code: str | None,
    *lines: tuple[str, int],
    **body: Any,
) -> dict[str, Any]:
    before = (_orders(session), stock_of(session, market.tea), stock_of(session, market.carpet))
    problem = assert_problem(market.order(*lines, **body), status, code)
    assert (
        _orders(session),
        stock_of(session, market.tea),
        stock_of(session, market.carpet),
    ) == before
    return problem


def test_bad_quantities_are_refused_and_nothing_is_reserved(
    market: Market, session: Session
) -> None:
    for quantity in (0, -1, 10_001):
        problem = _assert_refused(
            market, session, 422, "invalid", (market.tea, 1), (market.carpet, quantity)
        )
        assert "lines.1.quantity" in problem["errors"]
    for quantity in ("1", 1.5, None):
        _assert_refused(market, session, 422, "invalid", (market.tea, quantity))  # type: ignore[arg-type]


def test_unknown_and_unpublished_listings_are_refused(market: Market, session: Session) -> None:
    draft = make_listing(
        session, market.tea_seller, price_minor=100, currency="CNY", status="draft", title="Draft"
    )
    archived = make_listing(
        session, market.tea_seller, price_minor=100, currency="CNY", status="archived", title="Old"
    )
    problem = _assert_refused(
        market,
        session,
        422,
        "listing_unavailable",
        (market.tea, 1),
        ("no-such-listing", 1),
        (draft, 1),
        (archived, 1),
    )
    assert set(problem["errors"]) == {
        "lines.1.listing_id",
        "lines.2.listing_id",
        "lines.3.listing_id",
    }


def test_a_country_the_listing_does_not_ship_to_is_refused(
    market: Market, session: Session
) -> None:
    uz_only = make_listing(
        session, market.tea_seller, price_minor=100, currency="CNY", ships_to=["UZ"], title="UZ"
    )
    problem = _assert_refused(market, session, 422, "not_shipped_to", (market.tea, 1), (uz_only, 1))
    assert list(problem["errors"]) == ["lines.1.listing_id"]


def test_a_seller_without_a_shipping_rate_to_the_destination_cannot_be_ordered_from(
    market: Market, session: Session
) -> None:
    owner = market.api.user()
    seller = market.api.seller(owner, name="KZ-only tea")["id"]
    market.api.put(
        f"/sellers/{seller}/shipping-rates",
        json=[
            {
                "countries": ["KZ"],
                "base": {"amount": "1.00", "currency": "CNY"},
                "per_kg": {"amount": "1.00", "currency": "CNY"},
            }
        ],
        as_=owner,
    )
    listing = make_listing(session, seller, price_minor=100, currency="CNY", title="Kz only")
    uzbek = {**ADDRESS, "country": "UZ", "city": "Tashkent"}
    problem = _assert_refused(
        market, session, 422, "no_shipping_rate", (market.tea, 1), (listing, 1), ship_to=uzbek
    )
    assert list(problem["errors"]) == ["lines.1.listing_id"]
    assert market.order((listing, 1)).status_code == 201


def test_unknown_currencies_and_currencies_without_a_rate_are_refused(
    market: Market, session: Session
) -> None:
    _assert_refused(market, session, 422, "invalid", (market.tea, 1), currency="ABC")
    _assert_refused(market, session, 422, "invalid", (market.tea, 1), currency="kzt")
    _assert_refused(market, session, 422, "rate_missing", (market.tea, 1), currency="GBP")


def test_a_stale_rate_set_refuses_the_order(market: Market, session: Session) -> None:
    store_rates(session, as_of=RATES.as_of - dt.timedelta(days=10))
    problem = _assert_refused(market, session, 409, "rate_stale", (market.tea, 1))
    assert problem["currencies"] == ["CNY", "KZT"]


def test_malformed_addresses_are_refused(market: Market, session: Session) -> None:
    for ship_to in (
        {**ADDRESS, "country": "XX"},
        {key: value for key, value in ADDRESS.items() if key != "line1"},
        {**ADDRESS, "line1": ""},
        {**ADDRESS, "planet": "Earth"},
        {**ADDRESS, "phone": "call me"},
        "Almaty, Kazakhstan",
        None,
    ):
        problem = _assert_refused(market, session, 422, "invalid", (market.tea, 1), ship_to=ship_to)
        assert any(key.startswith("ship_to") for key in problem["errors"]), problem


def test_other_malformed_orders_are_refused(market: Market, session: Session) -> None:
    _assert_refused(market, session, 422, "invalid", incoterm="DDP")  # no lines
    _assert_refused(market, session, 422, "invalid", (market.tea, 1), incoterm="EXW")
    _assert_refused(market, session, 422, "invalid", (market.tea, 1), coupon="FREE")
    _assert_refused(market, session, 422, None, (market.tea, 1), (market.tea, 2))
    _assert_refused(market, session, 422, "brokerage_unknown", (market.tea, 1), broker_id="nope")
    _assert_refused(
        market, session, 422, "brokerage_unknown", (market.tea, 1), broker_id=market.tea_seller
    )
    tr_only = market.api.brokerage(market.broker, name="Istanbul brokers", countries=["TR"])["id"]
    _assert_refused(
        market, session, 422, "brokerage_not_serving", (market.tea, 1), broker_id=tr_only
    )
    assert_problem(market.api.post("/orders", json={"currency": "KZT"}), 401)
    assert_problem(
        market.api.post(
            "/orders", data="not json", content_type="application/json", as_=market.buyer
        ),
        400,
    )
    assert_problem(
        market.api.post("/orders", data="x", content_type="text/plain", as_=market.buyer), 415
    )


def test_every_short_line_is_reported_at_once_and_nothing_is_reserved(
    market: Market, session: Session
) -> None:
    problem = _assert_refused(
        market, session, 409, "insufficient_stock", (market.tea, 11), (market.carpet, 4)
    )
    assert sorted(
        (line["listing_id"], line["requested"], line["available"]) for line in problem["lines"]
    ) == sorted([(market.tea, 11, 10), (market.carpet, 4, 3)])
    _assert_refused(market, session, 409, "insufficient_stock", (market.tea, 1), (market.carpet, 4))


def test_the_last_units_can_be_bought(market: Market, session: Session) -> None:
    market.placed((market.carpet, 3))
    assert stock_of(session, market.carpet) == 0
    assert_problem(market.order((market.carpet, 1)), 409, "insufficient_stock")


def test_a_designated_broker_is_set_on_every_shipment(market: Market) -> None:
    order = market.placed((market.tea, 1), (market.carpet, 1), broker_id=market.brokerage)
    assert {s["brokerage_id"] for s in order["shipments"]} == {market.brokerage}


def test_line_prices_keep_the_exact_conversion(market: Market) -> None:
    order = market.placed((market.tea, 7))
    exact = Decimal("128.00") * Decimal("512.3456") / Decimal("7.7341")
    unit = _money(order["lines"][0]["unit_price"]).amount
    assert abs(unit - exact) <= Decimal("0.005")


def test_a_listing_priced_in_another_currency_than_its_sellers_keeps_its_own_price(
    market: Market, session: Session
) -> None:
    in_dollars = make_listing(
        session, market.tea_seller, price_minor=1_999, currency="USD", title="Export tea"
    )
    order = market.placed((market.tea, 1), (in_dollars, 2))
    dollar_line = order["lines"][1]
    assert dollar_line["unit_price_seller"] == {"amount": "19.99", "currency": "USD"}
    assert dollar_line["unit_price"] == RATES.convert(Money.of("19.99", "USD"), "KZT").to_api()
    (parcel,) = order["shipments"]
    expected = Money.of("128.00", "CNY") + RATES.convert(Money.of("19.99", "USD"), "CNY") * 2
    assert parcel["goods_seller"] == expected.to_api()
    assert [(fx["from"], fx["to"]) for fx in order["fx"]] == [("CNY", "KZT"), ("USD", "KZT")]
