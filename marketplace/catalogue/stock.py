"""Stock of listings: reserved when an order is placed, released when it expires or is cancelled.

Stock is taken in one UPDATE over the listings' primary keys (`stock = stock - n WHERE stock >=
n`, row by row), so two buyers of the last unit cannot both win; released one listing at a time
in primary-key order, so orders touching the same listings lock them in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing
from marketplace.errors import Conflict
from marketplace.i18n import _


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_detail = _("Some lines ask for more than is in stock; nothing was reserved.")


def reserve(session: Session, wanted: Mapping[str, int]) -> None:
    """Take stock for every listing or for none, never going below zero under any concurrency.

    One UPDATE takes every line whose stock suffices (`stock >= n`, checked row by row under its
    lock); when any line is short, what was taken is given back at once and InsufficientStock is
    raised once, listing every short line with what is available.
    """
    if not wanted:
        return
    ids = sorted(wanted)
    quantity = case({listing_id: wanted[listing_id] for listing_id in ids}, value=Listing.id)
    taken = set(
        session.scalars(
            update(Listing)
            .where(Listing.id.in_(ids), Listing.stock >= quantity)
            .values(stock=Listing.stock - quantity)
            .returning(Listing.id)
            .execution_options(synchronize_session=False)
        )
    )
    short = [listing_id for listing_id in ids if listing_id not in taken]
    if not short:
        return
    release(session, {listing_id: wanted[listing_id] for listing_id in taken})
    available = {
        listing_id: stock
        for listing_id, stock in session.execute(
            select(Listing.id, Listing.stock).where(Listing.id.in_(short))
        )
    }
    raise InsufficientStock(
        extra={
            "lines": [
                {
                    "listing_id": listing_id,
                    "requested": wanted[listing_id],
                    "available": available.get(listing_id, 0),
                }
                for listing_id in short
            ]
        }
    )


def release(session: Session, quantities: Mapping[str, int]) -> None:
    """Give back reserved units, one listing at a time in primary-key order."""
    for listing_id in sorted(quantities):
        session.execute(
            update(Listing)
            .where(Listing.id == listing_id)
            .values(stock=Listing.stock + quantities[listing_id])
            .execution_options(synchronize_session=False)
        )
