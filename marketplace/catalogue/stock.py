"""Stock of listing variants: reserved when an order is placed, released when it expires or is
cancelled.

Stock is taken in one UPDATE over the variants' primary keys (`stock = stock - n WHERE stock >=
n`, row by row), so two buyers of the last unit cannot both win; released one variant at a time
in primary-key order, so orders touching the same variants lock them in the same order.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from marketplace.catalogue.models import ListingVariant
from marketplace.errors import Conflict
from marketplace.i18n import _


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_detail = _("Some lines ask for more than is in stock; nothing was reserved.")


def reserve(session: Session, wanted: Mapping[str, int]) -> None:
    """Take stock for every variant (by id) or for none, never below zero under any concurrency.

    One UPDATE takes every line whose stock suffices (`stock >= n`, checked row by row under its
    lock); when any line is short, what was taken is given back at once and InsufficientStock is
    raised once, listing every short line with what is available.
    """
    if not wanted:
        return
    ids = sorted(wanted)
    quantity = case({variant_id: wanted[variant_id] for variant_id in ids}, value=ListingVariant.id)
    taken = set(
        session.scalars(
            update(ListingVariant)
            .where(
                ListingVariant.id.in_(ids),
                ListingVariant.removed_at.is_(None),
                ListingVariant.stock >= quantity,
            )
            .values(stock=ListingVariant.stock - quantity)
            .returning(ListingVariant.id)
            .execution_options(synchronize_session=False)
        )
    )
    short = [variant_id for variant_id in ids if variant_id not in taken]
    if not short:
        return
    release(session, {variant_id: wanted[variant_id] for variant_id in taken})
    found = {
        row.id: row
        for row in session.execute(
            select(
                ListingVariant.id,
                ListingVariant.listing_id,
                ListingVariant.stock,
                ListingVariant.removed_at,
            ).where(ListingVariant.id.in_(short))
        )
    }
    raise InsufficientStock(
        extra={
            "lines": [
                {
                    "listing_id": found[variant_id].listing_id if variant_id in found else None,
                    "variant_id": variant_id,
                    "requested": wanted[variant_id],
                    "available": found[variant_id].stock
                    if variant_id in found and found[variant_id].removed_at is None
                    else 0,
                }
                for variant_id in short
            ]
        }
    )


def release(session: Session, quantities: Mapping[str, int]) -> None:
    """Give back reserved units, one variant at a time in primary-key order (removed variants
    too: a seller may offer one again)."""
    for variant_id in sorted(quantities):
        session.execute(
            update(ListingVariant)
            .where(ListingVariant.id == variant_id)
            .values(stock=ListingVariant.stock + quantities[variant_id])
            .execution_options(synchronize_session=False)
        )
