"""What other domains may know about published listings, read-only: the catalogue owns the table.

Customs quotes a basket from these facts (HS code, origin, price, weight, where it ships) without
reading `listings` itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing, ListingStatus
from marketplace.money import Money


@dataclass(frozen=True)
class ListingFacts:
    id: str
    seller_id: str
    hs_code: str
    origin_country: str
    price: Money
    weight_grams: int
    ships_everywhere: bool
    ships_to: frozenset[str]

    def ships_to_country(self, country: str) -> bool:
        return self.ships_everywhere or country in self.ships_to


def published_listing_facts(session: Session, ids: Iterable[str]) -> dict[str, ListingFacts]:
    """The published listings among `ids`, by id (two queries: listings, their destinations)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Listing).where(Listing.id.in_(wanted), Listing.status == ListingStatus.PUBLISHED)
    )
    return {
        row.id: ListingFacts(
            id=row.id,
            seller_id=row.seller_id,
            hs_code=row.hs_code,
            origin_country=row.origin_country,
            price=row.price,
            weight_grams=row.weight_grams,
            ships_everywhere=row.ships_everywhere,
            ships_to=frozenset(d.country for d in row.destinations),
        )
        for row in rows
    }
