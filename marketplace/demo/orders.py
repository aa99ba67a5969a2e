"""Demo shipping rates for every demo seller, and one paid demo order once there is stock to buy.

Rates are illustrative (a domestic row, a regional row, and "*" for everywhere else), in each
seller's own currency. The demo order is placed by the demo buyer in KZT through the same
service as the API, with the demo rate set and the customs engine, then marked paid, so sellers,
the buyer and the broker all have something to look at.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import services as accounts
from marketplace.accounts.models import OrganisationKind, User
from marketplace.catalogue.models import Listing, ListingStatus, ListingVariant
from marketplace.checkout import placing as checkout
from marketplace.customs.landed_cost import Incoterm
from marketplace.db import utcnow
from marketplace.demo.accounts import SELLERS
from marketplace.errors import DomainError
from marketplace.money import Money
from marketplace.orders import lifecycle, placing, shipping
from marketplace.orders.models import Order

# Seller email -> rows of (countries, base, per kg) in the seller's currency.
RATES: dict[str, list[tuple[tuple[str, ...], str, str]]] = {
    "hangzhou-tea@demo.example": [
        (("CN",), "12.00", "4.00"),
        (("KZ", "UZ", "KG"), "45.00", "18.00"),
        (("*",), "120.00", "60.00"),
    ],
    "almaty-crafts@demo.example": [
        (("KZ",), "1500", "500"),
        (("UZ", "KG", "RU"), "3500", "1200"),
        (("*",), "9000", "4500"),
    ],
    "bukhara-silk@demo.example": [
        (("UZ",), "25000", "8000"),
        (("KZ", "KG", "TJ"), "60000", "25000"),
        (("*",), "180000", "90000"),
    ],
    "istanbul-carpets@demo.example": [(("TR",), "150.00", "40.00"), (("*",), "900.00", "350.00")],
    "lahore-spices@demo.example": [(("PK",), "400.00", "150.00"), (("*",), "6500.00", "2500.00")],
    "dubai-dates@demo.example": [
        (("AE",), "20.00", "8.00"),
        (("SA", "KW", "OM", "QA", "BH"), "45.00", "15.00"),
        (("*",), "95.00", "40.00"),
    ],
}
DEMO_BUYER = "buyer@demo.example"
DEMO_ADDRESS = {
    "name": "Nursultan Abenov",
    "line1": "12 Abay Avenue",
    "city": "Almaty",
    "postal_code": "050000",
    "country": "KZ",
}


def load(session: Session, settings: dict[str, Any]) -> str:
    priced = 0
    for email, _name, _locale, _business, _country, currency, _address in SELLERS:
        owner = session.scalar(select(User).where(User.email_key == email))
        if owner is None:
            continue
        for seller_id in accounts.organisation_ids(session, owner.id, OrganisationKind.SELLER):
            if not shipping.get_rates(session, seller_id):
                rows = [
                    shipping.RateRow(
                        countries, Money(Decimal(base), currency), Money(Decimal(per_kg), currency)
                    )
                    for countries, base, per_kg in RATES[email]
                ]
                shipping.replace_rates(session, owner, seller_id, rows)
            priced += 1
    return f"orders: shipping rates for {priced} sellers; {_demo_order(session, settings)}"


def _demo_order(session: Session, settings: dict[str, Any]) -> str:
    buyer = session.scalar(select(User).where(User.email_key == DEMO_BUYER))
    if buyer is None:
        return "no demo buyer"
    existing = session.scalar(select(Order.number).where(Order.buyer_id == buyer.id).limit(1))
    if existing is not None:
        return f"demo order {existing}"
    listings = session.scalars(
        select(Listing)
        .where(
            Listing.status == ListingStatus.PUBLISHED,
            Listing.id.in_(select(ListingVariant.listing_id).where(ListingVariant.stock >= 2)),
        )
        .order_by(Listing.created_at, Listing.id)
        .limit(20)
    ).all()
    # One listing from each of up to two sellers: a checkout that spans sellers and currencies.
    chosen: dict[str, Listing] = {}
    for listing in listings:
        if (
            len(chosen) < 2
            and listing.seller_id not in chosen
            and (listing.ships_everywhere or "KZ" in listing.ships_to)
        ):
            chosen[listing.seller_id] = listing
    if not chosen:
        return "no demo order (no published listings yet)"
    now = utcnow()
    try:
        view = checkout.place_order(
            session,
            buyer,
            placing.OrderRequest(
                currency="KZT",
                lines=[placing.LineRequest(listing.id, 1) for listing in chosen.values()],
                ship_to=DEMO_ADDRESS,
                incoterm=Incoterm.DDP,
            ),
            now=now,
            reservation=dt.timedelta(minutes=settings["ORDER_RESERVATION_MINUTES"]),
            max_rate_age=None,
        )
    except DomainError as exc:  # e.g. no rates loaded: the demo still serves everything else
        return f"no demo order ({exc.error_code})"
    lifecycle.mark_paid(session, view.order.id, now=now, payment_reference="demo")
    return f"demo order {view.order.number} (paid, {len(view.shipments)} shipments)"
