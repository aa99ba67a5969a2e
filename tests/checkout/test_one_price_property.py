"""One pricing path: over generated carts (several sellers and currencies, DAP and DDP, parcels
on both sides of de minimis) the quote, the cart and the order it completes into agree to the
minor unit. The real customs engine and the sellers' real shipping price lists price all three.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from marketplace.catalogue.models import Listing, ListingVariant
from tests.factories import Market, make_listing
from tests.helpers import Caller

DESTINATIONS = {
    "KZ": {"city": "Almaty", "postal_code": "050000"},
    "UZ": {"city": "Tashkent", "postal_code": "100000"},
    "DE": {"city": "Berlin", "postal_code": "10115"},
    "US": {"city": "Seattle", "postal_code": "98101", "region": "WA"},
}
CURRENCIES = ("KZT", "EUR", "USD", "CNY", "JPY", "KWD")
TOTALS = ("goods", "shipping", "duties", "taxes")

baskets = st.fixed_dictionaries(
    {
        "destination": st.sampled_from(sorted(DESTINATIONS)),
        "currency": st.sampled_from(CURRENCIES),
        "incoterm": st.sampled_from(("DAP", "DDP")),
        # Which goods (cheap tea, a costly carpet, a mid-priced kilim) and how many of each.
        "lines": st.dictionaries(
            st.sampled_from(("tea", "carpet", "kilim")),
            st.integers(min_value=1, max_value=4),
            min_size=1,
            max_size=3,
        ),
    }
)


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _address(country: str) -> dict[str, str]:
    return {
        "name": "Aigerim Bekova",
        "line1": "12 Abay Avenue",
        "country": country,
        "phone": "+7 701 234 5678",
        **DESTINATIONS[country],
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(basket=baskets)
def test_quote_cart_and_order_agree_to_the_minor_unit(
    market: Market, basket: dict[str, Any]
) -> None:
    api = market.api
    goods = {"tea": market.tea, "carpet": market.carpet, "kilim": _kilim(market)}
    lines = [(goods[name], quantity) for name, quantity in basket["lines"].items()]
    market.session.execute(  # plenty of stock: every example completes
        update(ListingVariant)
        .where(ListingVariant.listing_id.in_(list(goods.values())))
        .values(stock=10_000)
    )
    market.session.flush()

    quote = _ok(
        api.get(
            "/landed-cost",
            query_string={
                "to": basket["destination"],
                "currency": basket["currency"],
                "incoterm": basket["incoterm"],
                "lines": ",".join(f"{listing}:{quantity}" for listing, quantity in lines),
            },
        )
    )
    assert quote["shipping_known"] is True

    buyer: Caller = market.buyer
    cart = _ok(
        api.post(
            "/carts",
            json={
                "currency": basket["currency"],
                "incoterm": basket["incoterm"],
                "ship_to": _address(basket["destination"]),
            },
            as_=buyer,
        ),
        201,
    )
    for listing, quantity in lines:
        cart = _ok(
            api.post(
                f"/carts/{cart['id']}/lines",
                json={"listing_id": listing, "quantity": quantity},
                as_=buyer,
            ),
            201,
        )
    assert cart["problems"] == [], cart["problems"]
    order = _ok(api.post(f"/carts/{cart['id']}/complete", as_=buyer), 201)

    def plain(amount: dict[str, str]) -> tuple[str, str]:
        return amount["amount"], amount["currency"]  # the quote adds a display `formatted`

    for name in TOTALS:
        assert plain(quote["totals"][name]) == plain(cart["totals"][name]), name
        assert plain(cart["totals"][name]) == plain(order["totals"][name]), name
    assert (
        cart["totals"]["payable_at_checkout"]
        == cart["totals"]["grand_total"]
        == order["totals"]["grand_total"]
    )
    assert cart["totals"]["due_on_delivery"] == order["totals"]["due_on_delivery"]
    assert plain(quote["totals"]["due_on_delivery"]) == plain(order["totals"]["due_on_delivery"])
    # What the quote says is paid at checkout on top of goods and shipping is what the order charges.
    paid_now = sum(
        int(order["totals"][name]["amount"].replace(".", "")) for name in ("goods", "shipping")
    ) + int(quote["totals"]["payable_at_checkout"]["amount"].replace(".", ""))
    assert paid_now == int(order["totals"]["grand_total"]["amount"].replace(".", ""))
    # Each parcel is priced the same in the cart and in the order.
    assert [{k: s[k] for k in TOTALS} for s in cart["shipments"]] == [
        {k: s[k] for k in TOTALS} for s in order["shipments"]
    ]


_KILIMS: dict[str, str] = {}


def _kilim(market: Market) -> str:
    """A third listing, from the carpet seller, priced in another currency than its seller's."""
    key = market.carpet_seller
    if key not in _KILIMS or market.session.get(Listing, _KILIMS[key]) is None:
        _KILIMS[key] = make_listing(
            market.session,
            market.carpet_seller,
            price_minor=9_500,
            currency="EUR",
            stock=10_000,
            weight_grams=2_500,
            hs_code="570210",
            origin_country="TR",
            title="Anatolian kilim",
        )
    return _KILIMS[key]
