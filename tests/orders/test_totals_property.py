"""Over many generated orders, every figure adds up to the minor unit and is rounded once."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organisation, User
from marketplace.catalogue.models import Listing
from marketplace.customs.landed_cost import Amounts, DeMinimis, FxUsed, Incoterm, LandedCost
from marketplace.money import Money
from marketplace.money.currencies import quantum
from marketplace.orders import placing
from marketplace.orders.landed_cost import ShipmentForCustoms
from marketplace.orders.models import ShippingRate
from tests import factories

CURRENCIES = ("KZT", "USD", "JPY", "KWD", "CNY", "TRY", "EUR")
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
_ids = itertools.count()

rates = st.fixed_dictionaries(
    {
        code: st.decimals(min_value=Decimal("0.001"), max_value=Decimal("20000"), places=4)
        for code in CURRENCIES
        if code != "EUR"
    }
)
line = st.tuples(
    st.integers(min_value=0, max_value=2),  # which seller
    st.integers(min_value=1, max_value=50_000_000),  # price in minor units
    st.integers(min_value=1, max_value=30_000),  # grams
    st.integers(min_value=1, max_value=25),  # quantity
)
seller = st.tuples(
    st.sampled_from(CURRENCIES),
    st.integers(min_value=0, max_value=100_000),  # base, minor units
    st.integers(min_value=0, max_value=100_000),  # per kg, minor units
)


def _estimator(duty_bps: int, tax_bps: int, collect_bps: int):  # type: ignore[no-untyped-def]
    """A stand-in engine: duty and tax as shares of goods plus shipping, rounded once each."""

    def estimate(session: Session, shipment: ShipmentForCustoms) -> LandedCost:
        value = shipment.shipping
        for item in shipment.items:
            value += item.total_value
        duties = (value * (Decimal(duty_bps) / 10_000)).quantize()
        taxes = ((value + duties) * (Decimal(tax_bps) / 10_000)).quantize()
        collected = duties + taxes
        if shipment.incoterm == "DAP":
            collected = ((duties + taxes) * (Decimal(collect_bps) / 10_000)).quantize()
        return _landed(shipment, value, duties, taxes, collected)

    return estimate


def _landed(
    shipment: ShipmentForCustoms, value: Money, duties: Money, taxes: Money, collected: Money
) -> LandedCost:
    """An estimate carrying the stand-in's charges, every amount in the order currency."""
    charges = duties + taxes
    goods = value - shipment.shipping

    def both(amount: Money) -> Amounts:
        return Amounts(amount, amount)

    return LandedCost(
        destination=shipment.to_country,
        date=NOW.date(),
        incoterm=Incoterm(shipment.incoterm),
        currency=shipment.currency,
        requested_currency=shipment.currency,
        rule=None,
        goods=both(goods),
        shipping=both(shipment.shipping),
        customs_value=both(value),
        duties=both(duties),
        taxes=both(taxes),
        duties_and_taxes=both(charges),
        payable_at_checkout=both(collected),
        due_on_delivery=both(charges - collected),
        landed_cost=both(value + charges),
        de_minimis=DeMinimis(None, None),
        collected_at_sale=None,
        lines=(),
        explanations=(),
        fx=FxUsed(shipment.currency, NOW.date(), "test"),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    currency=st.sampled_from(CURRENCIES),
    table=rates,
    sellers=st.lists(seller, min_size=3, max_size=3),
    lines=st.lists(line, min_size=1, max_size=6),
    incoterm=st.sampled_from(["DAP", "DDP"]),
    shares=st.tuples(st.integers(0, 3_000), st.integers(0, 2_500), st.integers(0, 10_000)),
)
def test_order_totals_add_up_exactly_for_any_order(
    session: Session,
    currency: str,
    table: dict[str, Decimal],
    sellers: list[tuple[str, int, int]],
    lines: list[tuple[int, int, int, int]],
    incoterm: str,
    shares: tuple[int, int, int],
) -> None:
    rate_table = factories.rate_table(table, NOW.date())
    nested = session.begin_nested()
    try:
        n = next(_ids)
        buyer = User(email=f"b{n}@x.test", email_key=f"b{n}@x.test", password_hash="x", name="B")
        orgs = [
            Organisation(
                kind="seller",
                name=f"S{i}",
                country=("CN", "TR", "JP")[i],
                address={},
                currency=code,
            )
            for i, (code, _base, _per_kg) in enumerate(sellers)
        ]
        session.add_all([buyer, *orgs])
        session.flush()
        session.add_all(
            ShippingRate(
                seller_id=org.id,
                country="*",
                position=0,
                currency=code,
                base_minor=base,
                per_kg_minor=per_kg,
            )
            for org, (code, base, per_kg) in zip(orgs, sellers, strict=True)
        )
        listings = []
        for i, (which, price, grams, _quantity) in enumerate(lines):
            listing = Listing(
                seller_id=orgs[which].id,
                sku=f"P{n}-{i}",
                language="en",
                title="Thing",
                price_minor=price,
                currency=sellers[which][0],
                stock=100,
                weight_grams=grams,
                hs_code="090210",
                origin_country="CN",
                ships_everywhere=True,
                status="published",
            )
            listings.append(listing)
        session.add_all(listings)
        session.flush()

        view = placing.place_order(
            session,
            buyer,
            placing.OrderRequest(
                currency=currency,
                lines=[
                    placing.LineRequest(listing.id, quantity)
                    for listing, (*_, quantity) in zip(listings, lines, strict=True)
                ],
                ship_to={"line1": "x", "city": "Almaty", "country": "KZ"},
                incoterm=incoterm,
            ),
            rates=rate_table,
            now=NOW,
            reservation=dt.timedelta(minutes=30),
            estimate=_estimator(*shares),
        )
        totals = view.totals
        zero = Money.zero(currency)
        assert totals.grand_total + totals.due_on_delivery == (
            totals.goods + totals.shipping + totals.duties + totals.taxes
        )
        if incoterm == "DDP":
            assert totals.due_on_delivery == zero
            assert (
                totals.grand_total == totals.goods + totals.shipping + totals.duties + totals.taxes
            )
        order = view.order
        assert (
            order.goods_minor,
            order.shipping_minor,
            order.duties_minor,
            order.taxes_minor,
            order.grand_total_minor,
        ) == (
            totals.goods.minor,
            totals.shipping.minor,
            totals.duties.minor,
            totals.taxes.minor,
            totals.grand_total.minor,
        )
        assert sum(line.total_minor for line in view.lines) == order.goods_minor
        assert sum(s.goods_minor for s in view.shipments) == order.goods_minor
        assert len(view.shipments) == len({which for which, *_ in lines})
        half = quantum(currency) / 2
        for order_line in view.lines:
            assert order_line.total_minor == order_line.unit_price_minor * order_line.quantity
            exact = (
                Money.from_minor(
                    order_line.unit_price_seller_minor, order_line.seller_currency
                ).amount
                * rate_table.rate(currency)
                / rate_table.rate(order_line.seller_currency)
            )
            unit = Money.from_minor(order_line.unit_price_minor, currency).amount
            assert abs(unit - exact) <= half
            assert unit == exact.quantize(quantum(currency), rounding=ROUND_HALF_UP)
    finally:
        nested.rollback()
