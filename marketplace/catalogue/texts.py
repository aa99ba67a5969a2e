"""Listing titles in a reader's languages, for what outlives the catalogue page (order lines)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalogue import locales
from marketplace.catalogue.models import Listing, ListingTranslation


def titles_in(
    session: Session, listings: Collection[Listing], preferences: tuple[str, ...]
) -> dict[str, tuple[str, str]]:
    """Each listing's (title, locale) for a reader preferring `preferences` (best first),
    falling back as the catalogue does: through every preference, then the seller's own text.

    Translations are read only when some listing's own language is not the reader's first
    choice (otherwise none could be better than the seller's text)."""
    best = {listing.id: (listing.title, listing.language) for listing in listings}
    if not preferences:
        return best
    chain = locales.preference_chain(*preferences)
    if all(listing.language == chain[0] for listing in listings):
        return best
    rows = session.execute(
        select(
            ListingTranslation.listing_id, ListingTranslation.locale, ListingTranslation.title
        ).where(ListingTranslation.listing_id.in_(list(best)), ListingTranslation.locale.in_(chain))
    ).all()
    for listing_id, locale, title in rows:
        if locales.prefers(chain, locale, best[listing_id][1]):
            best[listing_id] = (title, locale)
    return best
