"""The public catalogue: filters, sorting, keyset pagination, conversion, caching, query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.catalogue import browse, pricing
from marketplace.catalogue.browse import CatalogueQuery
from marketplace.catalogue.models import Listing, ListingImage
from marketplace.db import utcnow
from marketplace.money import Money, RateTable
from marketplace.money import services as money_services
from tests.factories import CATALOGUE_RATES as RATES
from tests.factories import Shop, rate_table, store_rates
from tests.helpers import Api, assert_problem


def ids(response: Any) -> list[str]:
    body = response.get_json()
    assert response.status_code == 200, body
    return [item["id"] for item in body["items"]]


def test_only_published_listings_are_public(api: Api, shop: Shop) -> None:
    published = shop.listing(sku="P")
    draft = shop.listing(sku="D", status="draft")
    archived = shop.listing(sku="A")
    api.patch(f"/listings/{archived['id']}", json={"status": "archived"}, as_=shop.owner)
    assert ids(api.get("/catalogue")) == [published["id"]]
    assert_problem(api.get(f"/catalogue/{draft['id']}"), 404)
    assert_problem(api.get(f"/catalogue/{archived['id']}"), 404)


def test_item_has_the_contract_fields(api: Api, shop: Shop) -> None:
    listing = shop.listing(ships_to=["UZ", "KZ"])
    item = api.get("/catalogue").get_json()["items"][0]
    assert item["id"] == listing["id"]
    assert item["seller"] == {"id": shop.seller["id"], "name": "Hangzhou Tea", "country": "CN"}
    assert item["price"]["amount"] == "120.00" and item["list_price"]["currency"] == "CNY"
    assert item["price"]["formatted"]
    assert item["in_stock"] is True and item["category"] == "green-tea"
    assert item["origin_country"] == "CN" and item["hs_code"] == "090210"
    assert item["ships_to"] == ["KZ", "UZ"]
    assert item["locale"] == "zh-Hans" and item["translated"] is False


def test_every_filter_keeps_only_matching_listings(api: Api, shop: Shop, other_shop: Shop) -> None:
    tea = shop.listing(sku="TEA", ships_to=["KZ"], stock=0)
    carpet = shop.listing(
        sku="CARPET", category="kilims", hs_code="5702.10", ships_to=["*"], origin_country="TR"
    )
    felt = other_shop.listing(
        sku="FELT",
        category="felt",
        hs_code="5602.10",
        origin_country="KZ",
        ships_to=["UZ", "RU"],
        price={"amount": "9000", "currency": "KZT"},
    )

    def found(**query: Any) -> set[str]:
        return set(ids(api.get("/catalogue", query_string=query)))

    assert found(category="tea") == {tea["id"]}  # a parent category includes its children
    assert found(category="green-tea") == {tea["id"]}
    assert found(category="carpets") == {carpet["id"]}
    assert found(category="no-such") == set()
    assert found(ship_to="KZ") == {tea["id"], carpet["id"]}
    assert found(ship_to="UZ") == {carpet["id"], felt["id"]}
    assert found(ship_to="DE") == {carpet["id"]}
    assert found(origin="TR") == {carpet["id"]}
    assert found(seller_id=other_shop.seller["id"]) == {felt["id"]}
    assert found(in_stock="true") == {carpet["id"], felt["id"]}
    assert found(in_stock="false") == {tea["id"]}
    assert found(ship_to="KZ", in_stock="true", origin="TR") == {carpet["id"]}


def test_bad_catalogue_queries_are_problems(api: Api) -> None:
    for query in (
        {"ship_to": "XX"},
        {"currency": "ABC"},
        {"sort": "cheapest"},
        {"limit": 0},
        {"limit": 101},
        {"in_stock": "maybe"},
        {"locale": "!!"},
        {"currency": "EUR", "min_price": "ten"},
        {"currency": "EUR", "min_price": "1.001"},
    ):
        assert_problem(api.get("/catalogue", query_string=query), 422)
    assert_problem(
        api.get("/catalogue", query_string={"min_price": "10"}), 422, "currency_required"
    )
    assert_problem(api.get("/catalogue", query_string={"cursor": "bm9wZQ"}), 422, "cursor_invalid")


@pytest.mark.parametrize("sort", ["newest", "price_asc", "price_desc"])
def test_pages_walk_every_listing_once_in_order(
    api: Api, shop: Shop, sort: str, rates: RateTable
) -> None:
    prices = ["10.00", "20.00", "20.00", "5.00", "30.00", "20.00", "7.50"]
    for i, amount in enumerate(prices):
        shop.listing(sku=f"S{i}", price={"amount": amount, "currency": "CNY"})
    everything = api.get("/catalogue", query_string={"sort": sort, "limit": 100}).get_json()[
        "items"
    ]
    walked: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/catalogue", query_string=query).get_json()
        assert len(page["items"]) <= 3
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["id"] for i in walked] == [i["id"] for i in everything]
    assert len({i["id"] for i in walked}) == len(prices)
    if sort != "newest":
        amounts = [float(i["price"]["amount"]) for i in walked]
        assert amounts == sorted(amounts, reverse=sort == "price_desc")


def test_a_cursor_stays_valid_when_listings_are_added(api: Api, shop: Shop) -> None:
    first = [shop.listing(sku=f"N{i}")["id"] for i in range(4)]
    page = api.get("/catalogue", query_string={"limit": 2}).get_json()
    shop.listing(sku="LATE")
    rest = api.get(
        "/catalogue", query_string={"limit": 10, "cursor": page["next_cursor"]}
    ).get_json()
    assert [i["id"] for i in page["items"]] + [i["id"] for i in rest["items"]] == first[::-1]


def test_a_cursor_from_another_sort_is_refused(api: Api, shop: Shop) -> None:
    for i in range(3):
        shop.listing(sku=f"C{i}")
    cursor = api.get("/catalogue", query_string={"limit": 1}).get_json()["next_cursor"]
    assert_problem(
        api.get("/catalogue", query_string={"cursor": cursor, "sort": "price_asc"}),
        422,
        "cursor_invalid",
    )


def test_prices_convert_to_the_display_currency_and_bounds_apply_across_currencies(
    session: Session, shop: Shop, other_shop: Shop
) -> None:
    # 80.00 CNY = 10.00 EUR = 12.50 USD; 6250 KZT = 12.50 EUR = 15.63 USD (15.625 rounds half up)
    cheap = shop.listing(sku="CNY80", price={"amount": "80.00", "currency": "CNY"})
    dear = other_shop.listing(sku="KZT6250", price={"amount": "6250", "currency": "KZT"})
    edge = shop.listing(sku="USD15.63", price={"amount": "15.63", "currency": "USD"})

    def page(**query: Any) -> dict[str, Money]:
        result = browse.browse(session, CatalogueQuery(**query), RATES)
        return {item.id: item.price for item in result.items}

    shown = page(currency="USD", sort="price_asc")
    assert shown == {
        cheap["id"]: Money.of("12.50", "USD"),
        dear["id"]: Money.of("15.63", "USD"),
        edge["id"]: Money.of("15.63", "USD"),
    }
    assert list(shown) == [cheap["id"], dear["id"], edge["id"]]  # 12.50 EUR < 12.504 EUR
    usd = "USD"
    assert set(page(currency=usd, min_price=Money.of("15.63", usd))) == {dear["id"], edge["id"]}
    assert set(page(currency=usd, min_price=Money.of("15.64", usd))) == set()
    assert set(page(currency=usd, max_price=Money.of("15.62", usd))) == {cheap["id"]}
    assert set(page(currency=usd, max_price=Money.of("12.50", usd))) == {cheap["id"]}
    assert set(page(currency=usd, max_price=Money.of("12.49", usd))) == set()
    assert set(
        page(currency="EUR", min_price=Money.of("10", "EUR"), max_price=Money.of("12", "EUR"))
    ) == {cheap["id"]}
    assert set(page(currency="KZT", min_price=Money.of("6250", "KZT"))) == {dear["id"], edge["id"]}
    # Without a display currency each listing keeps its own price.
    assert page()[dear["id"]] == Money.of("6250", "KZT")


def test_without_rates_only_the_display_currency_can_be_filtered(
    session: Session, shop: Shop, other_shop: Shop
) -> None:
    cny = shop.listing(sku="A", price={"amount": "80.00", "currency": "CNY"})
    other_shop.listing(sku="B", price={"amount": "6250", "currency": "KZT"})
    result = browse.browse(
        session, CatalogueQuery(currency="CNY", min_price=Money.of("1", "CNY")), None
    )
    assert [i.id for i in result.items] == [cny["id"]]


def test_display_currency_comes_from_the_query_then_the_user(api: Api, shop: Shop) -> None:
    shop.listing()
    buyer = api.user(currency="KZT")
    assert api.get("/catalogue", as_=buyer).get_json()["currency"] == "KZT"
    assert (
        api.get("/catalogue", as_=buyer, query_string={"currency": "EUR"}).get_json()["currency"]
        == "EUR"
    )
    assert api.get("/catalogue").get_json()["currency"] is None


def test_catalogue_sends_an_etag_and_answers_304(api: Api, shop: Shop) -> None:
    shop.listing()
    first = api.get("/catalogue", query_string={"locale": "ru"})
    assert first.headers["ETag"] and "Accept-Language" in first.headers["Vary"]
    assert first.headers["Content-Language"] == "ru"
    again = api.get(
        "/catalogue",
        query_string={"locale": "ru"},
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304 and again.get_data() == b""
    shop.listing(sku="NEW")
    changed = api.get(
        "/catalogue",
        query_string={"locale": "ru"},
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    item_id = changed.get_json()["items"][0]["id"]
    one = api.get(f"/catalogue/{item_id}")
    assert (
        api.get(f"/catalogue/{item_id}", headers={"If-None-Match": one.headers["ETag"]}).status_code
        == 304
    )


def test_a_catalogue_page_costs_the_same_queries_whatever_its_size(
    api: Api, shop: Shop, session: Session, rates: RateTable
) -> None:
    """With galleries on the page: at most 2 statements (the page is 1; rates are kept 60 s)."""
    api.client.application.config["MARKETPLACE"]["CATALOGUE_RATES_TTL"] = 60
    money_services._checked.clear()  # the current set's id, as another test's rollback left it
    for i in range(12):
        listing = shop.listing(sku=f"Q{i}", ships_to=["KZ", "UZ"] if i % 2 else ["*"])
        shop.translate(listing["id"], "ru", f"Чай {i}")
        shop.translate(listing["id"], "en", f"Tea {i}")
        for position in range(i % 4):
            session.add(
                ListingImage(
                    listing_id=listing["id"],
                    position=position,
                    width=800,
                    height=600,
                    thumb="a" * 64 + ".webp",
                    medium="b" * 64 + ".webp",
                    large="c" * 64 + ".webp",
                    alt={"zh-Hans": f"图 {position}", "ru": f"Фото {position}"},
                )
            )
    session.flush()
    statements: list[str] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        if not str(args[2]).startswith(("SAVEPOINT", "RELEASE")):  # the test's own transaction
            statements.append(str(args[2]))

    def run(limit: int, **extra: Any) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = api.get(
                "/catalogue",
                query_string={"limit": limit, "currency": "EUR", "locale": "ru-RU", **extra},
            )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        items = response.get_json()["items"]
        assert len(items) == min(limit, 12)
        assert {len(item["images"]) for item in items} <= {0, 1, 2, 3}
        assert all(image["alt"].startswith("Фото") for item in items for image in item["images"])
        return len(statements)

    run(1)  # warm: rates read and fingerprint checked once per process
    counts = {run(limit) for limit in (1, 5, 12)}
    assert len(counts) == 1 and min(counts) <= 2, statements
    # A search adds one statement, its plan (which words the index holds).
    searched = {run(limit, q="чай", ship_to="KZ") for limit in (1, 12)}
    assert searched == {min(counts) + 1}, statements
    money_services._checked.clear()


def test_a_catalogue_read_on_an_engine_opens_no_transaction(database_url: str, engine: Any) -> None:
    """Deployed (no test transaction), a page is its SELECT alone: no BEGIN, no COMMIT."""
    app = create_app({"APP_ENV": "test", "DATABASE_URL": database_url})
    app_engine = app.extensions["marketplace"]["session_factory"].kw["bind"]
    modes: list[str | None] = []

    def mode(connection: Any, *_args: Any) -> None:
        modes.append(connection.get_execution_options().get("isolation_level"))

    event.listen(app_engine, "before_cursor_execute", mode)
    assert app.test_client().get("/api/v1/catalogue?locale=ru").status_code == 200
    assert modes and set(modes) == {"AUTOCOMMIT"}
    with app_engine.connect() as after:  # the connection goes back to the pool as it came
        if app_engine.dialect.name == "sqlite":
            assert after.connection.dbapi_connection.isolation_level is None  # type: ignore[union-attr]
        assert after.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
    modes.clear()
    # A view that writes still runs in a transaction.
    body = {"email": "autocommit@example.test", "password": "long enough pass", "name": "A"}
    assert app.test_client().post("/api/v1/auth/register", json=body).status_code == 201
    assert modes and "AUTOCOMMIT" not in modes
    with app_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM users WHERE email = 'autocommit@example.test'")
    app_engine.dispose()


def test_detail_with_ship_to_adds_the_customs_landed_cost_estimate(
    api: Api, shop: Shop, rates: RateTable
) -> None:
    listing = shop.listing(ships_to=["KZ", "TR"], price={"amount": "800.00", "currency": "CNY"})
    item = api.get(
        f"/catalogue/{listing['id']}", query_string={"ship_to": "TR", "currency": "EUR"}
    ).get_json()
    block = item["landed_cost"]
    assert block["destination"] == "TR" and block["available"] is True, block
    assert (
        block["totals"]["goods"]["amount"] == "100.00"
        and block["totals"]["goods"]["currency"] == "EUR"
    )
    assert float(block["totals"]["landed_cost"]["amount"]) >= 100
    plain = api.get(f"/catalogue/{listing['id']}").get_json()
    assert "landed_cost" not in plain
    elsewhere = api.get(f"/catalogue/{listing['id']}", query_string={"ship_to": "BR"}).get_json()[
        "landed_cost"
    ]
    assert elsewhere["available"] is False and elsewhere["code"] and elsewhere["totals"] is None


def test_new_rates_reorder_prices_across_currencies(
    session: Session, shop: Shop, other_shop: Shop
) -> None:
    cny = shop.listing(sku="CNY", price={"amount": "80.00", "currency": "CNY"})  # 10.00 EUR
    kzt = other_shop.listing(sku="KZT", price={"amount": "6000", "currency": "KZT"})  # 12.00 EUR
    order = [i.id for i in browse.browse(session, CatalogueQuery(sort="price_asc"), RATES).items]
    assert order == [cny["id"], kzt["id"]]
    cheaper_tenge = rate_table({**RATES.rates, "KZT": "1000"}, RATES.as_of)
    order = [
        i.id for i in browse.browse(session, CatalogueQuery(sort="price_asc"), cheaper_tenge).items
    ]
    assert order == [kzt["id"], cny["id"]]  # 6.00 EUR now
    session.expire_all()
    assert session.get(Listing, kzt["id"]).price_norm == pricing.normalized(
        600000, "KZT", cheaper_tenge
    )


def test_a_page_converted_with_stale_rates_says_so(
    app_settings: dict, session_factory, session: Session, shop: Shop
) -> None:
    from marketplace import create_app

    shop.listing(price={"amount": "80.00", "currency": "CNY"})
    yesterday = utcnow().date() - dt.timedelta(days=1)
    store_rates(session, RATES, as_of=yesterday)

    def page(max_rate_age: int, **query: str) -> dict[str, Any]:
        app = create_app(
            {**app_settings, "MAX_RATE_AGE": max_rate_age}, session_factory=session_factory
        )
        response = app.test_client().get("/api/v1/catalogue", query_string=query)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    fresh = page(3 * 24 * 3600, currency="USD")
    assert fresh["rates_stale"] is False and fresh["items"][0]["price"]["amount"] == "12.50"
    stale = page(60, currency="USD")  # yesterday's rates are hours old: shown, but flagged
    assert stale["rates_stale"] is True and stale["items"][0]["price"]["amount"] == "12.50"
    assert page(60, currency="CNY")["rates_stale"] is False  # nothing converted
    assert page(60)["rates_stale"] is False  # each listing in its own currency
