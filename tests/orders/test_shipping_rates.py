"""Seller shipping rates: a price list by destination, the most specific row winning."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.money import Money
from marketplace.orders import shipping
from marketplace.orders.models import ShippingRate
from tests.helpers import Api, assert_problem


def _row(countries: list[str], base: str, per_kg: str, currency: str = "CNY") -> dict:
    return {
        "countries": countries,
        "base": {"amount": base, "currency": currency},
        "per_kg": {"amount": per_kg, "currency": currency},
    }


def test_owner_sets_rates_and_anyone_reads_them(api: Api) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    rows = [
        _row(["KZ", "UZ"], "50.00", "20.00"),
        {**_row(["*"], "120.00", "45.50"), "service_class": "parcel_post"},
    ]
    response = api.put(f"/sellers/{seller}/shipping-rates", json=rows, as_=owner)
    assert response.status_code == 200, response.get_json()
    # A row without a postal service class is letter post.
    assert api.get(f"/sellers/{seller}/shipping-rates").get_json() == [
        {**rows[0], "service_class": "letter_post"},
        rows[1],
    ]


def test_an_unknown_service_class_is_refused(api: Api) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    rows = [{**_row(["KZ"], "50.00", "20.00"), "service_class": "pigeon"}]
    response = api.put(f"/sellers/{seller}/shipping-rates", json=rows, as_=owner)
    assert_problem(response, 422)


def test_the_most_specific_row_wins(api: Api, session: Session) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    api.put(
        f"/sellers/{seller}/shipping-rates",
        json=[_row(["*"], "120.00", "45.00"), _row(["KZ"], "50.00", "20.00")],
        as_=owner,
    )
    found = shipping.rates_to(session, [seller], "KZ")[seller]
    assert found.base == Money.of("50.00", "CNY")
    assert found.price(1_250) == Money.of("75.0000", "CNY")
    assert shipping.rates_to(session, [seller], "DE")[seller].base == Money.of("120.00", "CNY")


def test_a_seller_without_a_row_for_a_country_has_no_rate_there(api: Api, session: Session) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    api.put(f"/sellers/{seller}/shipping-rates", json=[_row(["KZ"], "50.00", "20.00")], as_=owner)
    assert shipping.rates_to(session, [seller], "UZ") == {}


def test_putting_rates_replaces_the_whole_list(api: Api) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    api.put(f"/sellers/{seller}/shipping-rates", json=[_row(["KZ"], "50.00", "20.00")], as_=owner)
    assert api.put(f"/sellers/{seller}/shipping-rates", json=[], as_=owner).get_json() == []
    assert api.get(f"/sellers/{seller}/shipping-rates").get_json() == []


def test_bad_rates_are_refused_and_change_nothing(api: Api, session: Session) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    api.put(f"/sellers/{seller}/shipping-rates", json=[_row(["KZ"], "50.00", "20.00")], as_=owner)
    bad = [
        [_row(["KZ"], "1.00", "1.00"), _row(["UZ", "KZ"], "2.00", "2.00")],  # KZ twice
        [_row(["*"], "1.00", "1.00"), _row(["*"], "2.00", "2.00")],
        [_row(["*", "KZ"], "1.00", "1.00")],
        [_row(["XX"], "1.00", "1.00")],
        [_row([], "1.00", "1.00")],
        [_row(["KZ"], "1.001", "1.00")],  # more decimals than CNY has
        [_row(["KZ"], "-1.00", "1.00")],
        [_row(["KZ"], "1e3", "1.00")],
        [_row(["KZ"], "1.00", "1.00", currency="EUR")],  # not the seller's currency
        [
            {
                "countries": ["KZ"],
                "base": {"amount": 1.5, "currency": "CNY"},
                "per_kg": {"amount": "1.00", "currency": "CNY"},
            }
        ],
        [{"countries": ["KZ"], "base": {"amount": "1.00", "currency": "CNY"}}],
        [{**_row(["KZ"], "1.00", "1.00"), "extra": 1}],
        {"countries": ["KZ"]},
    ]
    for body in bad:
        assert_problem(api.put(f"/sellers/{seller}/shipping-rates", json=body, as_=owner), 422)
    stored = session.scalars(select(ShippingRate).where(ShippingRate.seller_id == seller)).all()
    assert [(r.country, r.base_minor) for r in stored] == [("KZ", 5000)]


def test_duplicate_countries_name_the_row_they_clash_with(api: Api) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    body = [_row(["KZ"], "1.00", "1.00"), _row(["UZ", "KZ"], "2.00", "2.00")]
    problem = assert_problem(
        api.put(f"/sellers/{seller}/shipping-rates", json=body, as_=owner), 422
    )
    assert list(problem["errors"]) == ["1.countries"]


def test_only_an_owner_may_set_rates(api: Api, session: Session) -> None:
    owner = api.user()
    seller = api.seller(owner)["id"]
    member = api.user()
    api.join(owner, member, f"/sellers/{seller}")
    stranger = api.user()
    body = [_row(["KZ"], "1.00", "1.00")]
    assert_problem(api.put(f"/sellers/{seller}/shipping-rates", json=body), 401)
    assert_problem(api.put(f"/sellers/{seller}/shipping-rates", json=body, as_=stranger), 404)
    assert_problem(api.put(f"/sellers/{seller}/shipping-rates", json=body, as_=member), 403)
    assert_problem(api.get("/sellers/no-such-seller/shipping-rates"), 404)
    assert (
        session.scalar(
            select(func.count()).select_from(ShippingRate).where(ShippingRate.seller_id == seller)
        )
        == 0
    )


def test_weight_is_charged_by_the_gram_and_rounded_once_later() -> None:
    row = shipping.RateRow(("KZ",), Money.of("10", "JPY"), Money.of("333", "JPY"))
    assert row.price(1_001).amount == Decimal("10") + Decimal("333.333")
