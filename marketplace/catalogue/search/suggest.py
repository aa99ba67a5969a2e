"""Type-ahead: titles in the reader's locale with a word starting with what has been typed.

Every title is stored once per word start under the folded text from there (`search_title_keys`,
written with the listing), so a prefix is one range over a primary key per locale of the
reader's chain, read in key order and stopped at the limit: its cost does not grow with the
catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, union_all
from sqlalchemy.orm import Session

from marketplace.catalogue import locales
from marketplace.catalogue.models import Listing, ListingStatus, ListingTranslation
from marketplace.catalogue.search.analysis import fold
from marketplace.catalogue.search.models import KEY_LENGTH, TitleKey

MAX_SUGGESTIONS = 10
_LAST = "\U0010ffff"  # above every character: `key < prefix + _LAST` bounds the prefix range


@dataclass(frozen=True)
class Suggestion:
    text: str
    listing_id: str


def suggest(
    session: Session, q: str, locale: str, limit: int = MAX_SUGGESTIONS
) -> list[Suggestion]:
    """Published listings' titles completing `q`, the reader's most specific locale first."""
    prefix = fold(q)[:KEY_LENGTH]
    if not prefix:
        return []
    chain = locales.fallback_chain(locale)
    branches = []
    for tag in chain:
        found = (
            select(
                TitleKey.locale,
                TitleKey.key,
                func.coalesce(ListingTranslation.title, Listing.title).label("title"),
                TitleKey.listing_id,
            )
            .join(Listing, Listing.id == TitleKey.listing_id)
            .outerjoin(
                ListingTranslation,
                and_(
                    ListingTranslation.listing_id == TitleKey.listing_id,
                    ListingTranslation.locale == TitleKey.locale,
                ),
            )
            .where(
                TitleKey.locale == tag,
                TitleKey.key >= prefix,
                TitleKey.key < prefix + _LAST,
                Listing.status == ListingStatus.PUBLISHED,
            )
            .order_by(TitleKey.key, TitleKey.listing_id)
            .limit(limit)
            .subquery()
        )
        branches.append(select(found))
    statement: Any = branches[0]
    if len(branches) > 1:
        statement = union_all(*branches)
    rows = list(session.execute(statement))
    rows.sort(key=lambda r: (chain.index(r.locale), r.key, r.listing_id))
    suggestions: dict[str, Suggestion] = {}
    for row in rows:
        suggestions.setdefault(row.title, Suggestion(row.title, row.listing_id))
    return list(suggestions.values())[:limit]
