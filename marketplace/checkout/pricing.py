"""What a listing costs delivered: the public catalogue item with customs' landed-cost estimate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from marketplace.catalogue import browse
from marketplace.customs import quotes
from marketplace.customs.landed_cost import Incoterm
from marketplace.errors import DomainError
from marketplace.money import MissingRate, RateTable

TOTALS = ("goods", "shipping", "duties", "taxes", "duties_and_taxes", "landed_cost")


def catalogue_item(
    session: Session,
    listing_id: str,
    *,
    locale: str,
    currency: str | None,
    rates: RateTable | None,
    ship_to: str | None,
    on: dt.date,
    fallbacks: Sequence[str] = (),
) -> browse.CatalogueItem:
    """One published listing; with `ship_to`, the landed-cost estimate for one unit (DDP, in the
    display currency), or the reason there is none (no rule for that country, not shipped
    there, no exchange rates)."""
    found = browse.item(
        session, listing_id, locale=locale, currency=currency, rates=rates, fallbacks=fallbacks
    )
    if ship_to is not None:
        found.landed_cost = _landed_cost(session, found, ship_to, currency, rates, on)
    return found


def _landed_cost(
    session: Session,
    found: browse.CatalogueItem,
    destination: str,
    currency: str | None,
    rates: RateTable | None,
    on: dt.date,
) -> browse.LandedCost:
    try:
        if rates is None:
            raise MissingRate()
        quote = quotes.quote_listings(
            session,
            destination=destination,
            lines=[(found.id, 1)],
            incoterm=Incoterm.DDP,
            on=on,
            rates=rates,
            currency=currency or found.list_price.currency,
        )
    except DomainError as error:
        return browse.LandedCost(destination, Incoterm.DDP.value, None, False, error)
    totals = {name: getattr(quote, name) for name in TOTALS}
    return browse.LandedCost(destination, quote.incoterm.value, totals, quote.shipping_known)
