"""Rate sets: storing what a source delivers, deciding what is current, reading a set back.

What is current: the newest stored set (highest `seq`). Every stored set is complete on its own,
so an order that points at a set can always re-read exactly the rates it used. A set holds each
source's latest rates: when a new set arrives from a source (an ECB import, an operator's PUT,
the demo loader) it replaces that source's rates and carries the other sources' rates over
unchanged, each with its own date and source (staleness is judged per currency).

The rate in force for a currency is the newest by date across sources; on the same date an
operator's rate wins over the demo's, which wins over the ECB's. So importing an old file never
overrides a newer operator rate, and an operator who stops quoting USD falls back to the ECB's.

If the incoming base differs, carried rates are re-expressed in the new base through the link
between the two bases (and take the older date of the two); without a link they are dropped.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.i18n import _
from marketplace.money.currencies import is_known
from marketplace.money.models import Rate, RateSet, SourceKind
from marketplace.money.rates import RATE_QUANTUM, RateOrigin, RateTable
from marketplace.money.sources import IncomingRates, RateSource, parse_rate

MAX_RATES_PER_SET = 300


class RatesUnavailable(Conflict):
    code = "rates_unavailable"
    default_detail = _("No exchange rates have been loaded yet.")


def latest_rate_set(session: Session) -> RateSet | None:
    """The current set (the newest stored), or None before any rates were loaded."""
    return session.scalar(select(RateSet).order_by(RateSet.seq.desc()).limit(1))


def current_rate_set(session: Session) -> RateSet:
    """The set in force now; 409 `rates_unavailable` if no rates were ever loaded."""
    rate_set = latest_rate_set(session)
    if rate_set is None:
        raise RatesUnavailable()
    return rate_set


@functools.cache
def current_set_statement() -> Select[str]:
    """The id of the set in force; built once: every price read runs it (or folds it into a
    statement of its own, see `checkout.pricing.in_force_columns`)."""
    return select(RateSet.id).order_by(RateSet.seq.desc()).limit(1)


_tables: dict[str, RateTable] = {}
_checked: dict[str, tuple[float, str | None]] = {}


def current_rates(session: Session, *, reuse_for: float = 0) -> RateTable | None:
    """The rates in force now, or None before any were loaded: the one way to read them.

    A stored set never changes, so its table is kept per process by set id: finding the current
    set's id is one indexed query, and reading its rates (a second one) happens once per set.
    With `reuse_for` seconds, the process skips even the first query for that long (catalogue
    pages are read thousands of times a second; rates change daily).
    """
    now = time.monotonic()
    checked = _checked.get("current")
    if reuse_for and checked is not None and now - checked[0] < reuse_for:
        set_id = checked[1]
    else:
        set_id = session.scalar(current_set_statement())
        _checked["current"] = (now, set_id)
    return None if set_id is None else table_of_set(session, set_id)


def table_of_set(session: Session, set_id: str) -> RateTable:
    """The table of a stored set, read once per process (only the current set is kept)."""
    table = _tables.get(set_id)
    if table is None:
        table = table_of(get_rate_set(session, set_id))
        _tables.clear()
        _tables[set_id] = table
    return table


def current_table(session: Session) -> RateTable:
    """The rates in force now, for pricing; 409 `rates_unavailable` if none were ever loaded."""
    table = current_rates(session)
    if table is None:
        raise RatesUnavailable()
    return table


def get_rate_set(session: Session, rate_set_id: str) -> RateSet:
    """A stored set by id (orders keep the id of the set they were priced with)."""
    rate_set = session.get(RateSet, rate_set_id)
    if rate_set is None:
        raise NotFound(code="rate_set_not_found")
    return rate_set


def get_table(session: Session, rate_set_id: str) -> RateTable:
    return table_of(get_rate_set(session, rate_set_id))


# On the same date, the rate someone typed in on purpose wins over the published one.
_PRECEDENCE = {SourceKind.ECB: 0, SourceKind.DEMO: 1, SourceKind.OPERATOR: 2}


def table_of(rate_set: RateSet) -> RateTable:
    """The rates in force in a stored set: per currency, the newest rate across its sources."""
    chosen: dict[str, Rate] = {}
    for rate in rate_set.rates:
        held = chosen.get(rate.currency)
        if held is None or _rank(rate) > _rank(held):
            chosen[rate.currency] = rate
    return RateTable(
        base=rate_set.base,
        as_of=rate_set.as_of,
        source=rate_set.source,
        rates={code: rate.rate for code, rate in sorted(chosen.items())},
        origins={
            code: RateOrigin(rate.as_of, rate.source) for code, rate in sorted(chosen.items())
        },
        set_id=rate_set.id,
    )


@dataclass(frozen=True)
class OriginStatus:
    """When and where one currency's rate was published, and whether it is too old to order in."""

    as_of: dt.date
    source: str
    stale: bool


@dataclass(frozen=True)
class RateSetStatus:
    """A stored set as people read it: its rates in force, each one's origin, the stale ones."""

    rate_set: RateSet
    rates: Mapping[str, Decimal]
    origins: Mapping[str, OriginStatus]
    stale: list[str]


def status_of(rate_set: RateSet, now: dt.datetime, max_age_seconds: int) -> RateSetStatus:
    """The set's table with staleness judged at `now` (rates older than `max_age_seconds`)."""
    table = table_of(rate_set)
    stale = table.stale_currencies(now, max_age_seconds)
    origins = {
        code: OriginStatus(origin.as_of, origin.source, code in stale)
        for code, origin in table.origins.items()
    }
    return RateSetStatus(rate_set, table.rates, origins, stale)


def _rank(rate: Rate) -> tuple[dt.date, int]:
    return rate.as_of, _PRECEDENCE.get(rate.source, 0)


def import_rates(session: Session, source: RateSource, now: dt.datetime) -> RateSet:
    """Fetch a set from `source` (the ECB file or URL) and store it as the current set."""
    return store_rates(session, source.fetch(), now)


def enter_rates(
    session: Session,
    *,
    entered_by: str,
    base: str,
    rates: Mapping[str, object],
    as_of: dt.date | None,
    now: dt.datetime,
) -> RateSet:
    """An operator's rates (PUT /rates): every entry is checked before anything is stored.

    `entered_by` is the operator's user id; the caller has checked the role.

    Rates are decimal strings ("540.12"), units of the currency per one `base`; `as_of`
    defaults to today (UTC) and may not be in the future.
    """
    errors: dict[str, list[object]] = {}
    code = "rate_invalid"
    if not is_known(base):
        errors["base"] = [_("Not a valid currency code.")]
        code = "currency_unknown"
    if not rates:
        errors["rates"] = [_("Give at least one rate.")]
    elif len(rates) > MAX_RATES_PER_SET:
        errors["rates"] = [_("Too many rates in one set.")]
    parsed: dict[str, Decimal] = {}
    for currency, text in sorted(rates.items()):
        if not is_known(currency):
            errors[f"rates.{currency[:10]}"] = [_("Not a valid currency code.")]
            code = "currency_unknown"
        elif currency == base:
            errors[f"rates.{currency}"] = [_("The base currency has no rate of its own.")]
        else:
            rate = parse_rate(text) if isinstance(text, str) else None
            if rate is None:
                errors[f"rates.{currency}"] = [
                    _(
                        'A rate is a positive decimal string with at most 12 decimals, such as "540.12".'
                    )
                ]
            else:
                parsed[currency] = rate
    day = as_of or now.date()
    if day > now.date():
        errors["as_of"] = [_("Rates cannot be dated in the future.")]
    if errors:
        raise Invalid(_("Some rates are invalid; nothing was changed."), code=code, errors=errors)
    incoming = IncomingRates(
        base=base,
        as_of=day,
        source=SourceKind.OPERATOR,
        rates=parsed,
        origin="PUT /rates",
        created_by=entered_by,
    )
    return store_rates(session, incoming, now)


def store_rates(session: Session, incoming: IncomingRates, now: dt.datetime) -> RateSet:
    """Store `incoming` as the new current set, carrying over other sources' rates."""
    current = latest_rate_set(session)
    rows = _carried(current, incoming) if current is not None else []
    rows += [
        (currency, rate.normalize(), incoming.as_of, incoming.source)
        for currency, rate in incoming.rates.items()
    ]
    seq = (session.scalar(select(func.max(RateSet.seq))) or 0) + 1
    rate_set = RateSet(
        seq=seq,
        base=incoming.base,
        as_of=incoming.as_of,
        source=incoming.source,
        origin=incoming.origin[:2000],
        created_by=incoming.created_by,
        created_at=now,
        rates=[
            Rate(currency=currency, rate=rate, as_of=day, source=source)
            for currency, rate, day, source in sorted(rows)
        ],
    )
    session.add(rate_set)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # another set was stored at the same moment
        raise Conflict(
            _("The rates were changed at the same moment; try again."), code="rates_changed"
        ) from exc
    return rate_set


Row = tuple[str, Decimal, dt.date, str]


def _carried(current: RateSet, incoming: IncomingRates) -> list[Row]:
    """The other sources' rates of the current set, expressed in the incoming base."""
    old = table_of(current)
    rows: list[Row] = []
    # Units of the old base per one new base, and the date of that link when it is an old rate.
    factor, link_day = Decimal(1), None
    if current.base == incoming.base:
        pass
    elif current.base in incoming.rates:
        factor = incoming.rates[current.base]
    elif incoming.base in old.rates:
        link = old.origin(incoming.base)
        factor, link_day = (1 / old.rates[incoming.base]).quantize(RATE_QUANTUM), link.as_of
        if link.source != incoming.source and factor > 0:
            rows.append((current.base, factor.normalize(), link.as_of, link.source))
    else:
        return []
    for rate in current.rates:
        if rate.currency == incoming.base or rate.source == incoming.source:
            continue
        value = rate.rate if factor == 1 else (rate.rate * factor).quantize(RATE_QUANTUM)
        if value > 0:
            rows.append(
                (
                    rate.currency,
                    value.normalize(),
                    min(rate.as_of, link_day or rate.as_of),
                    rate.source,
                )
            )
    return rows
