"""Landed-cost quotes for a basket of listings: what a quote holds, and which baskets can be quoted.

A basket is split the way orders are: one shipment per seller, each crossing from the seller's
country to the destination, each estimated on its own (thresholds apply per consignment). The
quote is priced by the checkout's pricing path (the one orders use); this module checks the
listings, whose facts come from the catalogue's read service, and names the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from marketplace.catalogue.facts import ListingFacts, published_listing_facts
from marketplace.customs.landed_cost import Incoterm, LandedCost
from marketplace.errors import Invalid, NotFound
from marketplace.i18n import _
from marketplace.money import Money


@dataclass(frozen=True)
class ShipmentQuote:
    seller_id: str
    ship_from: str
    estimate: LandedCost


@dataclass(frozen=True)
class QuoteTotals:
    """The sums of a basket's shipments, in the requested currency."""

    goods: Money
    shipping: Money
    duties: Money
    taxes: Money
    duties_and_taxes: Money
    payable_at_checkout: Money
    due_on_delivery: Money
    landed_cost: Money


@dataclass(frozen=True)
class BasketQuote:
    """Per-shipment estimates and their sums in the requested currency."""

    destination: str
    currency: str
    incoterm: Incoterm
    date: dt.date
    shipping_known: bool
    shipments: tuple[ShipmentQuote, ...]
    totals: QuoteTotals

    @property
    def shipping_note(self) -> Any:
        """Why the totals may be short (a lazy message), or None."""
        if self.shipping_known:
            return None
        return _(
            "A seller has no shipping rate to this country: its shipping is counted as zero, so duties and taxes on it are not included."
        )


def basket_listings(
    session: Session, *, destination: str, ids: Sequence[str]
) -> dict[str, ListingFacts]:
    """The published listings of a basket to quote (its lines' listing ids, in line order), by id;
    unknown or unpublished ones are a 404 `listing_not_found`, those not shipped to `destination`
    a 422 `not_shipped_to`."""
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
    return found
