"""Stock of listings: reserved when an order is placed, released when it expires or is cancelled.

Rows are updated one listing at a time in primary-key order, so two orders touching the same
listings lock them in the same order and never deadlock. Stock is taken with
`stock = stock - n WHERE stock >= n`: two buyers of the last unit cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing
from marketplace.errors import Conflict
from marketplace.i18n import _


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_detail = _("Some lines ask for more than is in stock; nothing was reserved.")


def reserve(session: Session, wanted: Mapping[str, int]) -> None:
    """Take stock for every listing or for none, never going below zero under any concurrency.

    Raises InsufficientStock once, listing every short line with what is available.
    """
    short: list[str] = []
    with session.begin_nested():
        for listing_id in sorted(wanted):
            quantity = wanted[listing_id]
            result = session.execute(
                update(Listing)
                .where(Listing.id == listing_id, Listing.stock >= quantity)
                .values(stock=Listing.stock - quantity)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                short.append(listing_id)
        if short:
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
