"""Prices across currencies: the sortable normalized price and exact display-currency bounds.

`price_norm` is the listing's price in the rate table's base currency, in millionths, as an
integer: conversion to any display currency is multiplication by a positive rate, so ordering
by `price_norm` is ordering by displayed price. It only sorts; nothing shown is computed from it.

Price filters never use it: a bound in the display currency becomes, for each listing currency,
the exact range of integer minor units whose converted and rounded price lies within the bound,
so `min_price=100.00 EUR` keeps exactly the listings shown at 100.00 EUR or more.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, localcontext

from sqlalchemy import BigInteger, Numeric, cast, func, select, update
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing, PriceBasis
from marketplace.db import utcnow
from marketplace.money import Money, RateTable, minor_units

NORM_DIGITS = 6
_refreshed_for: set[str] = set()  # rate keys this process has already checked


def rates_key(rates: RateTable) -> str:
    """A fingerprint of a rate table's numbers."""
    body = rates.base + ";" + ";".join(f"{c}={r}" for c, r in sorted(rates.rates.items()))
    return hashlib.sha256(body.encode()).hexdigest()


def normalized(price_minor: int, currency: str, rates: RateTable | None) -> int | None:
    """The sort key of a price: base-currency millionths, or None when no rate is known."""
    if rates is None or (currency != rates.base and currency not in rates.rates):
        return None
    amount = Decimal(price_minor).scaleb(-minor_units(currency)) / rates.rate(currency)
    return int(amount.scaleb(NORM_DIGITS).to_integral_value(rounding=ROUND_HALF_UP))


def refresh_normalized_prices(session: Session, rates: RateTable) -> int:
    """Recompute every listing's `price_norm` for a new rate table; returns listings updated.

    Call it when rates change (the catalogue also does so itself, once per process and rate
    table, through `ensure_normalized`). PostgreSQL does it in one exact NUMERIC UPDATE per
    currency; SQLite (no exact decimals in SQL) computes in Python and updates by key.
    """
    if session.get_bind().dialect.name == "postgresql":
        updated = _refresh_in_sql(session, rates)
    else:
        rows = session.execute(select(Listing.id, Listing.price_minor, Listing.currency)).all()
        changes = [
            {"id": row.id, "price_norm": normalized(row.price_minor, row.currency, rates)}
            for row in rows
        ]
        for start in range(0, len(changes), 5000):
            session.execute(update(Listing), changes[start : start + 5000])
        updated = len(changes)
    key = rates_key(rates)
    basis = session.get(PriceBasis, 1)
    if basis is None:
        session.add(PriceBasis(id=1, rates_key=key))
    else:
        basis.rates_key, basis.refreshed_at = key, utcnow()
    session.flush()
    return updated


def _refresh_in_sql(session: Session, rates: RateTable) -> int:
    known = {rates.base, *rates.rates}
    updated = 0
    for currency in session.scalars(select(Listing.currency).distinct()):
        if currency in known:
            factor = Decimal(1).scaleb(NORM_DIGITS - minor_units(currency)) / rates.rate(currency)
            value = func.round(cast(Listing.price_minor, Numeric) * cast(factor, Numeric))
            statement = (
                update(Listing)
                .where(Listing.currency == currency)
                .values(price_norm=cast(value, BigInteger))
            )
        else:
            statement = update(Listing).where(Listing.currency == currency).values(price_norm=None)
        result = session.execute(statement.execution_options(synchronize_session=False))
        updated += result.rowcount  # type: ignore[attr-defined]
    return updated


def ensure_normalized(session: Session, rates: RateTable | None) -> None:
    """Refresh `price_norm` if it was computed with another rate table (checked once per process)."""
    if rates is None:
        return
    key = rates_key(rates)
    if key in _refreshed_for:
        return
    if session.scalar(select(PriceBasis.rates_key).where(PriceBasis.id == 1)) != key:
        refresh_normalized_prices(session, rates)
    _refreshed_for.add(key)


@dataclass(frozen=True)
class MinorRange:
    """Inclusive bounds on a listing currency's minor units (None: unbounded)."""

    low: int | None
    high: int | None


def bounds_per_currency(
    minimum: Money | None, maximum: Money | None, rates: RateTable
) -> dict[str, MinorRange]:
    """For each currency the rates know, the listing prices whose display price is in bounds.

    A currency absent from the result has no rate: its listings cannot be compared and a price
    filter leaves them out.
    """
    bound = minimum or maximum
    assert bound is not None, "at least one bound"
    display = bound.currency
    currencies = {rates.base, *rates.rates}
    if display not in currencies:
        return {}
    result: dict[str, MinorRange] = {}
    for currency in sorted(currencies):
        low = _smallest_at_least(minimum, currency, rates) if minimum else None
        high = _largest_at_most(maximum, currency, rates) if maximum else None
        result[currency] = MinorRange(low, high)
    return result


def _shown(units: int, currency: str, display: str, rates: RateTable) -> Decimal:
    return rates.convert(Money.from_minor(units, currency), display).amount


def _per_unit(currency: str, display: str, rates: RateTable) -> Decimal:
    """Display minor units per listing minor unit, before rounding (as RateTable.convert computes)."""
    with localcontext() as context:
        context.prec = 40
        factor = rates.rate(display) / rates.rate(currency)
        return factor.scaleb(minor_units(display) - minor_units(currency))


def _solve(bound: Money, currency: str, rates: RateTable, offset: Decimal) -> int:
    """ceil((bound in display minor units + offset) / per-unit factor): the rounding boundary."""
    with localcontext() as context:
        context.prec = 40
        target = bound.amount.scaleb(minor_units(bound.currency)) + offset
        return int(
            (target / _per_unit(currency, bound.currency, rates)).to_integral_value(ROUND_CEILING)
        )


def _smallest_at_least(bound: Money, currency: str, rates: RateTable) -> int:
    """The least minor-unit price shown at `bound` or more: half-up rounding reaches the bound
    from bound - 0.5 display minor units; checked against RateTable.convert and nudged."""
    units = max(_solve(bound, currency, rates, Decimal("-0.5")), 0)
    while units > 0 and _shown(units - 1, currency, bound.currency, rates) >= bound.amount:
        units -= 1
    while _shown(units, currency, bound.currency, rates) < bound.amount:
        units += 1
    return units


def _largest_at_most(bound: Money, currency: str, rates: RateTable) -> int:
    """The greatest minor-unit price shown at `bound` or less; -1 when none is."""
    units = max(_solve(bound, currency, rates, Decimal("0.5")) - 1, -1)
    while _shown(units + 1, currency, bound.currency, rates) <= bound.amount:
        units += 1
    while units >= 0 and _shown(units, currency, bound.currency, rates) > bound.amount:
        units -= 1
    return units
