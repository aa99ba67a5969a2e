"""Addresses: the recipient's phone and email, the fields each destination needs, the address book."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.checkout.pricing import needs_cn23
from marketplace.customs.addresses import required_fields
from marketplace.customs.declaration import ServiceClass
from marketplace.money import Money
from marketplace.orders.models import Order
from tests.factories import ADDRESS, Market, rate_table, stock_of
from tests.helpers import assert_problem

RATES_DAY = dt.date(2026, 12, 1)
BEIJING = {
    "name": "Wang Fang",
    "line1": "8 Chaoyang Road",
    "city": "Beijing",
    "postal_code": "100020",
    "country": "CN",
}


def _orders(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Order)) or 0


def test_an_order_keeps_the_recipients_phone_and_email(market: Market) -> None:
    ship_to = {**ADDRESS, "name": "Aigerim", "phone": "+7 701 234 5678", "email": "a@example.kz"}
    order = market.placed((market.tea, 1), ship_to=ship_to)
    assert order["ship_to"] == ship_to


def test_a_destination_that_needs_a_phone_refuses_an_address_without_one(
    market: Market, session: Session
) -> None:
    before = (_orders(session), stock_of(session, market.carpet))
    problem = assert_problem(
        market.order((market.carpet, 1), ship_to=BEIJING, currency="CNY"),
        422,
        "address_incomplete",
    )
    assert list(problem["errors"]) == ["ship_to.phone"]
    assert problem["missing"] == ["phone"]
    assert {"name", "phone", "postal_code"} <= set(problem["required"])
    assert (_orders(session), stock_of(session, market.carpet)) == before
    placed = market.placed((market.carpet, 1), ship_to={**BEIJING, "phone": "+86 10 1234 5678"})
    assert placed["ship_to"]["phone"] == "+86 10 1234 5678"


def test_the_missing_field_is_named_in_the_callers_language(market: Market) -> None:
    response = market.order(
        (market.carpet, 1),
        ship_to={k: v for k, v in BEIJING.items() if k != "postal_code"},
        headers={"Accept-Language": "ru"},
    )
    problem = assert_problem(response, 422, "address_incomplete")
    assert set(problem["errors"]) == {"ship_to.phone", "ship_to.postal_code"}
    assert response.headers["Content-Language"] == "ru"
    assert "CN" in problem["errors"]["ship_to.phone"][0]
    assert problem["errors"]["ship_to.phone"][0] != "Parcels to CN need this field."


def test_a_cn23_parcel_needs_the_importers_phone_wherever_it_goes() -> None:
    assert "phone" not in required_fields("KZ")
    assert {"name", "phone"} <= set(required_fields("KZ", cn23=True))
    rates = rate_table({"XDR": "0.8", "USD": "1"}, RATES_DAY)
    # 300 SDR is 375 EUR at 0.8 SDR per euro: below it a CN 22, from it a CN 23.
    letter, parcel = ServiceClass.LETTER_POST, ServiceClass.PARCEL_POST
    assert not needs_cn23(rates, [(letter, Money.of("374.99", "EUR"))])
    assert needs_cn23(
        rates, [(letter, Money.of("10.00", "EUR")), (letter, Money.of("375.00", "EUR"))]
    )
    assert needs_cn23(rates, [(parcel, Money.of("1.00", "EUR"))])
    without_sdr = rate_table({}, RATES_DAY)
    assert not needs_cn23(without_sdr, [(letter, Money.of("1000.00", "EUR"))])
    assert needs_cn23(without_sdr, [(parcel, Money.of("1.00", "EUR"))])


# ---------------------------------------------------------------------------------------------
# The address book

HOME = {
    "name": "Aigerim Bekova",
    "line1": "12 Abay Avenue",
    "line2": "Flat 4",
    "city": "Almaty",
    "postal_code": "050000",
    "country": "KZ",
    "phone": "+7 701 234 5678",
    "email": "aigerim@example.kz",
}


def _book(market: Market, caller: Any = None) -> list[dict[str, Any]]:
    response = market.api.get("/me/addresses", as_=caller or market.buyer)
    assert response.status_code == 200, response.get_json()
    body: list[dict[str, Any]] = response.get_json()
    return body


def test_a_buyer_keeps_addresses_and_changes_them(market: Market) -> None:
    api = market.api
    created = api.post("/me/addresses", json=HOME, as_=market.buyer)
    assert created.status_code == 201, created.get_json()
    address = created.get_json()
    assert {k: v for k, v in address.items() if k != "id"} == HOME
    second = api.post("/me/addresses", json=BEIJING, as_=market.buyer).get_json()
    assert [a["id"] for a in _book(market)] == [address["id"], second["id"]]

    changed = api.patch(
        f"/me/addresses/{address['id']}", json={"line2": None, "city": "Astana"}, as_=market.buyer
    )
    assert changed.status_code == 200, changed.get_json()
    assert "line2" not in changed.get_json() and changed.get_json()["city"] == "Astana"

    assert api.delete(f"/me/addresses/{second['id']}", as_=market.buyer).status_code == 204
    assert [a["id"] for a in _book(market)] == [address["id"]]
    # A saved address is a ship_to as it is.
    book_entry = {k: v for k, v in _book(market)[0].items() if k != "id"}
    assert market.placed((market.tea, 1), ship_to=book_entry)["ship_to"] == book_entry


def test_another_buyers_address_does_not_exist_for_the_caller(market: Market) -> None:
    api = market.api
    mine = api.post("/me/addresses", json=HOME, as_=market.buyer).get_json()
    other = api.user("Someone else")
    assert _book(market, other) == []
    assert_problem(
        api.patch(f"/me/addresses/{mine['id']}", json={"city": "X"}, as_=other), 404, "not_found"
    )
    assert_problem(api.delete(f"/me/addresses/{mine['id']}", as_=other), 404, "not_found")
    assert_problem(api.get("/me/addresses"), 401, "unauthorized")
    assert _book(market)[0]["city"] == "Almaty"


def test_malformed_addresses_are_refused_and_nothing_is_kept(market: Market) -> None:
    api = market.api
    for body in (
        {k: v for k, v in HOME.items() if k != "name"},
        {**HOME, "country": "XX"},
        {**HOME, "phone": "call me"},
        {**HOME, "email": "not-an-email"},
        {**HOME, "planet": "Earth"},
        {**HOME, "line1": ""},
        ["not", "an", "object"],
    ):
        assert_problem(api.post("/me/addresses", json=body, as_=market.buyer), 422, "invalid")
    assert _book(market) == []
    saved = api.post("/me/addresses", json=HOME, as_=market.buyer).get_json()
    for change in ({"name": None}, {"city": ""}, {"phone": "x"}, {"id": "other"}):
        assert_problem(
            api.patch(f"/me/addresses/{saved['id']}", json=change, as_=market.buyer),
            422,
            "invalid",
        )
    assert _book(market) == [saved]
