"""Landed-cost quotes for a basket of listings: one estimate per seller's shipment, and totals.

A basket is split the way orders are: one shipment per seller, each crossing from the seller's
country to the destination, each estimated on its own (thresholds apply per consignment).
The listings' facts come from the catalogue's read service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organisation
from marketplace.catalogue.facts import published_listing_facts
from marketplace.customs.landed_cost import (
    Amounts,
    Incoterm,
    LandedCostEstimate,
    LandedCostInput,
    ShipmentLine,
    estimate_landed_cost,
)
from marketplace.errors import Invalid, NotFound
from marketplace.i18n import _
from marketplace.money import Money, RateTable


@dataclass(frozen=True)
class ShipmentQuote:
    seller_id: str
    ship_from: str
    estimate: LandedCostEstimate


@dataclass(frozen=True)
class BasketQuote:
    """Per-shipment estimates and their sums in the requested currency."""

    destination: str
    currency: str
    incoterm: Incoterm
    date: dt.date
    shipping_known: bool
    shipments: tuple[ShipmentQuote, ...]
    goods: Money
    shipping: Money
    duties: Money
    taxes: Money
    duties_and_taxes: Money
    payable_at_checkout: Money
    due_on_delivery: Money
    landed_cost: Money


def quote_listings(
    session: Session,
    *,
    destination: str,
    lines: Sequence[tuple[str, int]],
    incoterm: Incoterm,
    on: dt.date,
    rates: RateTable,
    currency: str | None = None,
) -> BasketQuote:
    """Estimate duties and taxes for `(listing_id, quantity)` lines shipped to `destination`.

    Shipping is counted as zero (`shipping_known` is False) until sellers' shipping rates exist:
    under CIF rules that understates the customs value by the shipping cost.
    """
    ids = [listing_id for listing_id, _quantity in lines]
    found = published_listing_facts(session, ids)
    missing = {
        f"lines.{index}": [_("No published listing has this id.")]
        for index, listing_id in enumerate(ids)
        if listing_id not in found
    }
    if missing:
        raise NotFound(_("Some listings do not exist."), code="listing_not_found", errors=missing)
    unshipped = {
        f"lines.{index}": [_("This listing does not ship to %(country)s.", country=destination)]
        for index, listing_id in enumerate(ids)
        if not found[listing_id].ships_to_country(destination)
    }
    if unshipped:
        raise Invalid(
            _("Some listings do not ship to %(country)s.", country=destination),
            code="not_shipped_to",
            errors=unshipped,
        )
    requested = currency or found[ids[0]].price.currency

    by_seller: dict[str, list[ShipmentLine]] = {}
    for listing_id, quantity in lines:
        listing = found[listing_id]
        by_seller.setdefault(listing.seller_id, []).append(
            ShipmentLine(
                hs_code=listing.hs_code,
                origin_country=listing.origin_country,
                unit_value=listing.price,
                quantity=quantity,
                unit_weight_grams=listing.weight_grams,
            )
        )
    countries: dict[str, str] = {
        seller_id: country
        for seller_id, country in session.execute(
            select(Organisation.id, Organisation.country).where(
                Organisation.id.in_(sorted(by_seller))
            )
        )
    }
    shipments = tuple(
        ShipmentQuote(
            seller_id,
            countries[seller_id],
            estimate_landed_cost(
                session,
                LandedCostInput(
                    destination=destination,
                    date=on,
                    incoterm=incoterm,
                    lines=shipment_lines,
                    shipping=Money.zero(requested),
                    currency=requested,
                    ship_from=countries[seller_id],
                ),
                rates,
            ),
        )
        for seller_id, shipment_lines in sorted(by_seller.items())
    )

    def total(pick: str) -> Money:
        amounts: list[Amounts] = [getattr(quote.estimate, pick) for quote in shipments]
        result = Money.zero(requested)
        for amount in amounts:
            result = result + amount.requested
        return result

    return BasketQuote(
        destination=destination,
        currency=requested,
        incoterm=incoterm,
        date=on,
        shipping_known=False,
        shipments=shipments,
        goods=total("goods"),
        shipping=total("shipping"),
        duties=total("duties"),
        taxes=total("taxes"),
        duties_and_taxes=total("duties_and_taxes"),
        payable_at_checkout=total("payable_at_checkout"),
        due_on_delivery=total("due_on_delivery"),
        landed_cost=total("landed_cost"),
    )
