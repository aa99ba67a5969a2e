"""Facet counts for a catalogue query: how many listings per category, origin, seller, price band.

Counts are for exactly the query's filters and search words, so a storefront shows what the
next click would find. Each facet is one GROUP BY over the indexed filters; values per facet
are capped at MAX_VALUES (largest counts first), so the answer stays small and bounded at any
catalogue size.

Price bands are in the display currency, on a 1-2-5 ladder (10, 20, 50, 100, ...) chosen to
cover the prices the query finds in at most MAX_BANDS bands. A band counts exactly the listings
that `min_price=low&max_price=high - 0.01` would find (the same per-currency bounds as the
filter), so clicking it never surprises.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organisation
from marketplace.catalogue import browse, pricing
from marketplace.catalogue.models import Listing
from marketplace.money import MissingRate, Money, RateTable

FACETS = ("category", "origin", "seller", "price")
MAX_VALUES = 50
MAX_BANDS = 8
_LADDER = (1, 2, 5)


@dataclass(frozen=True)
class FacetValue:
    value: str | None
    count: int
    name: str | None = None


@dataclass(frozen=True)
class PriceBand:
    """Display prices from `low` (inclusive) to `high` (exclusive; None: no upper end)."""

    low: Money
    high: Money | None
    count: int


def facet_counts(
    session: Session,
    query: browse.CatalogueQuery,
    rates: RateTable | None,
    wanted: tuple[str, ...],
) -> dict[str, list[Any]]:
    """The requested facets of a query; `price` needs the query's display currency."""
    if "price" in wanted and query.currency is None:
        raise browse.CurrencyRequired(errors={"currency": [browse.CurrencyRequired.default_detail]})
    pricing.ensure_normalized(session, rates)
    where = browse.conditions(query, rates, session.get_bind().dialect.name)
    found: dict[str, list[Any]] = {}
    for name in wanted:
        if name == "category":
            found[name] = _grouped(session, Listing.category, where)
        elif name == "origin":
            found[name] = _grouped(session, Listing.origin_country, where)
        elif name == "seller":
            found[name] = _sellers(session, where)
        elif name == "price":
            assert query.currency is not None
            found[name] = _price_bands(session, where, query.currency, rates)
    return found


def _grouped(session: Session, column: Any, where: list[ColumnElement[bool]]) -> list[FacetValue]:
    count = func.count().label("n")
    rows = session.execute(
        select(column, count)
        .where(*where)
        .group_by(column)
        .order_by(count.desc(), column)
        .limit(MAX_VALUES)
    )
    return [FacetValue(value, n) for value, n in rows]


def _sellers(session: Session, where: list[ColumnElement[bool]]) -> list[FacetValue]:
    count = func.count().label("n")
    top = (
        select(Listing.seller_id, count)
        .where(*where)
        .group_by(Listing.seller_id)
        .order_by(count.desc(), Listing.seller_id)
        .limit(MAX_VALUES)
        .subquery()
    )
    rows = session.execute(
        select(top.c.seller_id, Organisation.name, top.c.n)
        .join(Organisation, Organisation.id == top.c.seller_id)
        .order_by(top.c.n.desc(), top.c.seller_id)
    )
    return [FacetValue(seller_id, n, name) for seller_id, name, n in rows]


def _price_bands(
    session: Session, where: list[ColumnElement[bool]], display: str, rates: RateTable | None
) -> list[PriceBand]:
    if rates is None:
        return []
    try:
        per_base = rates.rate(display)
    except MissingRate:
        return []
    low, high = session.execute(
        select(func.min(Listing.price_norm), func.max(Listing.price_norm)).where(*where)
    ).one()
    if low is None or high is None:
        return []
    scale = Decimal(1).scaleb(-pricing.NORM_DIGITS) * per_base
    edges = ladder(Decimal(low) * scale, Decimal(high) * scale)
    bands = [
        (Money.of(edge, display), Money.of(upper, display) if upper is not None else None)
        for edge, upper in zip(edges, [*edges[1:], None], strict=True)
    ]
    counts: dict[int | None, int] = dict(
        session.execute(
            select(band := _band_of(edges[1:], display, rates), func.count())
            .where(*where)
            .group_by(band)
        ).all()
    )
    return [
        PriceBand(lower, upper, counts[index])
        for index, (lower, upper) in enumerate(bands)
        if counts.get(index)
    ]


def _band_of(edges: list[Decimal], display: str, rates: RateTable) -> ColumnElement[Any]:
    """Which band a listing's price falls in: per currency, the least minor units shown at each
    edge or above (the price filter's own bounds), compared in order. NULL without a rate."""
    per_currency: dict[str, ColumnElement[Any]] = {}
    thresholds = [
        pricing.bounds_per_currency(Money.of(edge, display), None, rates) for edge in edges
    ]
    for currency in sorted({rates.base, *rates.rates}):
        steps = [
            (Listing.price_minor < bounds[currency].low, i) for i, bounds in enumerate(thresholds)
        ]
        per_currency[currency] = case(*steps, else_=len(edges)) if steps else literal(0)
    return case(per_currency, value=Listing.currency, else_=None).label("band")


def ladder(lowest: Decimal, highest: Decimal) -> list[Decimal]:
    """Band edges from 0: 1-2-5 steps between the prices (decades when that would be too many)."""
    for steps in (_LADDER, (1,)):
        edges = [Decimal(0)]
        exponent = 0
        while True:
            candidates = [Decimal(m).scaleb(exponent) for m in steps]
            edges += [edge for edge in candidates if lowest < edge <= highest]
            if candidates[0] > highest:
                break
            exponent += 1
        if len(edges) <= MAX_BANDS:
            return edges
    return [Decimal(0), *edges[-(MAX_BANDS - 1) :]]
