"""Listing titles in a reader's languages, for what outlives the catalogue page (order lines)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalogue import locales
from marketplace.catalogue.models import Listing, ListingTranslation


def titles_in(
    session: Session, listing_ids: Collection[str], preferences: tuple[str, ...]
) -> dict[str, tuple[str, str]]:
    """Each listing's (title, locale) for a reader preferring `preferences` (best first),
    falling back as the catalogue does: through every preference, then the seller's own text."""
    if not listing_ids or not preferences:
        return {}
    chain = locales.preference_chain(*preferences)
    rows = session.execute(
        select(
            Listing.id,
            Listing.title,
            Listing.language,
            ListingTranslation.locale,
            ListingTranslation.title,
        )
        .outerjoin(
            ListingTranslation,
            (ListingTranslation.listing_id == Listing.id) & ListingTranslation.locale.in_(chain),
        )
        .where(Listing.id.in_(listing_ids))
    ).all()
    best: dict[str, tuple[str, str]] = {}
    for listing_id, title, language, t_locale, t_title in rows:
        current = best.setdefault(listing_id, (title, language))
        if locales.prefers(chain, t_locale, current[1]):
            best[listing_id] = (t_title, t_locale)
    return best
