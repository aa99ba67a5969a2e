"""Listing titles in a reader's languages, for what outlives the catalogue page (order lines)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalogue import locales
from marketplace.catalogue.models import Listing, ListingTranslation


@dataclass(frozen=True)
class ReaderTexts:
    """Listings' titles in a reader's languages, (title, locale) by listing id, and the option
    texts of their translations in the reader's chain, {locale: options} by listing id."""

    titles: dict[str, tuple[str, str]]
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    chain: tuple[str, ...] = ()

    def options_of(self, listing: Listing, options: Mapping[str, str]) -> dict[str, str]:
        """A variant's options as this reader reads them."""
        return options_in(options, self.options.get(listing.id, {}), self.chain, listing.language)


def titles_in(
    session: Session, listings: Collection[Listing], preferences: tuple[str, ...]
) -> ReaderTexts:
    """Each listing's (title, locale) for a reader preferring `preferences` (best first),
    falling back as the catalogue does: through every preference, then the seller's own text;
    with the option texts of the same translations (one statement).

    Translations are read only when some listing's own language is not the reader's first
    choice (otherwise none could be better than the seller's text)."""
    best = {listing.id: (listing.title, listing.language) for listing in listings}
    if not preferences:
        return ReaderTexts(best)
    chain = locales.preference_chain(*preferences)
    if all(listing.language == chain[0] for listing in listings):
        return ReaderTexts(best, {}, chain)
    rows = session.execute(
        select(
            ListingTranslation.listing_id,
            ListingTranslation.locale,
            ListingTranslation.title,
            ListingTranslation.options,
        ).where(ListingTranslation.listing_id.in_(list(best)), ListingTranslation.locale.in_(chain))
    ).all()
    options: dict[str, dict[str, Any]] = {}
    for listing_id, locale, title, texts in rows:
        if locales.prefers(chain, locale, best[listing_id][1]):
            best[listing_id] = (title, locale)
        if texts:
            options.setdefault(listing_id, {})[locale] = texts
    return ReaderTexts(best, options, chain)


def options_in(
    options: Mapping[str, str],
    texts: Mapping[str, Mapping[str, Any]],
    chain: tuple[str, ...],
    own_language: str,
) -> dict[str, str]:
    """A variant's options ({axis: value}) in a reader's chain: each axis name and each value
    falls back alone, like titles, through every preference and then the seller's own word.

    `texts` holds the option texts of the listing's translations by locale (any subset)."""
    out: dict[str, str] = {}
    for axis, value in options.items():
        name = _best(texts, chain, own_language, axis, None)
        out[name or axis] = _best(texts, chain, own_language, axis, value) or value
    return out


def _best(
    texts: Mapping[str, Mapping[str, Any]],
    chain: tuple[str, ...],
    own_language: str,
    axis: str,
    value: str | None,
) -> str | None:
    """The first translation in the chain naming the axis (value None) or one of its values."""
    for tag in chain:
        if tag == own_language:
            return None  # the seller's own word ranks here
        text = (texts.get(tag) or {}).get(axis) or {}
        found = text.get("name") if value is None else (text.get("values") or {}).get(value)
        if found:
            return str(found)
    return None
