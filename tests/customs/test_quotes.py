"""Quotes for a basket of listings: one estimate per seller's shipment, totals in the buyer's currency."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing
from marketplace.checkout.pricing import QuoteLine, quote
from marketplace.customs.landed_cost import Incoterm
from marketplace.errors import Invalid, NotFound
from marketplace.money import Money
from tests.factories import LANDED_COST_RATES as RATES
from tests.factories import make_listing
from tests.helpers import Api


def listing(
    session: Session,
    seller_id: str,
    *,
    price_minor: int,
    currency: str,
    hs_code: str,
    origin: str,
    ships_to: list[str] | None = None,
    status: str = "published",
) -> Listing:
    listing_id = make_listing(
        session,
        seller_id,
        sku=f"sku-{price_minor}-{hs_code}",
        title="Item",
        price_minor=price_minor,
        currency=currency,
        weight_grams=400,
        hs_code=hs_code,
        origin_country=origin,
        ships_to=ships_to or ("*",),
        status=status,
        search_text="item",
    )
    found = session.get(Listing, listing_id)
    assert found is not None
    return found


@pytest.fixture
def sellers(api: Api) -> tuple[str, str]:
    owner = api.user()
    tea = api.seller(owner)["id"]  # CN, CNY
    carpets = api.seller(
        owner,
        name="Grand Bazaar",
        country="TR",
        currency="TRY",
        address={"line1": "1 Bazaar", "city": "Istanbul", "country": "TR"},
    )["id"]
    return tea, carpets


def test_each_sellers_shipment_is_estimated_on_its_own(
    session: Session, sellers: tuple[str, str]
) -> None:
    tea_seller, carpet_seller = sellers
    tea = listing(
        session, tea_seller, price_minor=40000, currency="CNY", hs_code="090210", origin="CN"
    )  # 400 CNY = 50 EUR
    rug = listing(
        session, carpet_seller, price_minor=800000, currency="TRY", hs_code="570110", origin="TR"
    )  # 8,000 TRY = 200 EUR
    quoted = quote(
        session,
        destination="DE",
        lines=[QuoteLine(tea.id, 2), QuoteLine(rug.id, 1)],
        incoterm=Incoterm.DDP,
        on=dt.date(2026, 6, 30),
        rates=RATES,
        currency="EUR",
    )
    assert {s.seller_id for s in quoted.shipments} == {tea_seller, carpet_seller}
    by_origin = {s.ship_from: s.estimate for s in quoted.shipments}
    # Tea: 2 x 50 = 100 EUR <= 150: no duty; IOSS VAT 19% x 100 = 19.00 (shipping counted as zero).
    assert by_origin["CN"].duties.local == Money.of("0.00", "EUR")
    assert by_origin["CN"].taxes.local == Money.of("19.00", "EUR")
    # Carpet: 200 EUR > 150: duty 8% = 16.00; VAT 19% x 216 = 41.04.
    assert by_origin["TR"].duties.local == Money.of("16.00", "EUR")
    assert by_origin["TR"].taxes.local == Money.of("41.04", "EUR")
    assert quoted.totals.duties_and_taxes == Money.of("76.04", "EUR")
    assert quoted.totals.landed_cost == Money.of("376.04", "EUR")
    # These sellers have no shipping price lists: shipping is counted as zero, and said to be.
    assert quoted.shipping_known is False and quoted.totals.shipping.is_zero()


def test_a_domestic_shipment_pays_nothing(session: Session, sellers: tuple[str, str]) -> None:
    tea_seller, _carpets = sellers
    tea = listing(
        session, tea_seller, price_minor=900000, currency="CNY", hs_code="090210", origin="CN"
    )
    quoted = quote(
        session,
        destination="CN",
        lines=[QuoteLine(tea.id, 1)],
        incoterm=Incoterm.DAP,
        on=dt.date(2026, 3, 1),
        rates=RATES,
    )
    assert quoted.currency == "CNY" and quoted.totals.duties_and_taxes.is_zero()


def test_unknown_draft_or_unshipped_listings_are_refused(
    session: Session, sellers: tuple[str, str]
) -> None:
    tea_seller, _carpets = sellers
    draft = listing(
        session,
        tea_seller,
        price_minor=100,
        currency="CNY",
        hs_code="090210",
        origin="CN",
        status="draft",
    )
    kz_only = listing(
        session,
        tea_seller,
        price_minor=200,
        currency="CNY",
        hs_code="090210",
        origin="CN",
        ships_to=["KZ"],
    )
    with pytest.raises(NotFound) as missing:
        quote(
            session,
            destination="DE",
            lines=[QuoteLine(kz_only.id, 1), QuoteLine(draft.id, 1), QuoteLine("nope", 1)],
            incoterm=Incoterm.DDP,
            on=dt.date(2026, 3, 1),
            rates=RATES,
        )
    assert missing.value.error_code == "listing_not_found" and set(missing.value.errors) == {
        "lines.1",
        "lines.2",
    }
    with pytest.raises(Invalid) as unshipped:
        quote(
            session,
            destination="DE",
            lines=[QuoteLine(kz_only.id, 1)],
            incoterm=Incoterm.DDP,
            on=dt.date(2026, 3, 1),
            rates=RATES,
        )
    assert unshipped.value.error_code == "not_shipped_to"
