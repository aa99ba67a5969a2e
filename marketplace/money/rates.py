"""Exchange-rate tables, conversion through their base currency (cross rates), and staleness."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from marketplace.errors import Conflict, Invalid
from marketplace.i18n import _
from marketplace.money.money import Money

# Enough digits that amount * rate / rate is exact (or, for a non-terminating quotient, far
# closer than any tie), so the one rounding in Money.quantize is the only rounding.
_CONVERSION_PRECISION = 80
# Rates are stored with at most this many decimals (ExactDecimal is NUMERIC(30, 12) on PostgreSQL).
RATE_PLACES = 12
RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)


class MissingRate(Invalid):
    code = "rate_missing"
    default_detail = _("No exchange rate is known for this currency pair.")


class StaleRate(Conflict):
    code = "rate_stale"
    default_detail = _("The exchange rate is out of date; orders in this currency are paused.")


@dataclass(frozen=True, slots=True)
class RateOrigin:
    """When and where one currency's rate was published."""

    as_of: dt.date
    source: str


@dataclass(frozen=True, slots=True)
class Quote:
    """One conversion's rate as an order locks it: `fx: [{from, to, rate, as_of, source}]`.

    For a cross rate `as_of` is the older of the two rates' dates and `source` names both
    sources when they differ ("ecb+operator"). `rate` is rounded to the 12 decimals rates are
    stored with, for the record; amounts are converted with the unrounded rates.
    """

    from_currency: str
    to_currency: str
    rate: Decimal
    as_of: dt.date
    source: str
    rate_set_id: str | None


@dataclass(frozen=True)
class RateTable:
    """Units of each currency per one unit of `base` (ECB style: 1 EUR = 1.0163 USD).

    `origins` says per currency when and where its rate was published (a set may combine ECB
    rates with operator-entered ones); a currency without an entry takes the table's own
    `as_of` and `source`. `set_id` is the stored rate set this table was read from.
    """

    base: str
    as_of: dt.date
    source: str
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    origins: Mapping[str, RateOrigin] = field(default_factory=dict)
    set_id: str | None = None

    def rate(self, currency: str) -> Decimal:
        if currency == self.base:
            return Decimal(1)
        try:
            return self.rates[currency]
        except KeyError:
            raise MissingRate(
                _("No exchange rate is known for %(currency)s.", currency=currency),
                extra={"currency": currency},
            ) from None

    def origin(self, currency: str) -> RateOrigin:
        """When and where `currency`'s rate comes from (the base's is the table's own)."""
        self.rate(currency)
        return self.origins.get(currency) or RateOrigin(self.as_of, self.source)

    def cross_rate(self, source: str, target: str) -> Decimal:
        """How many `target` units one `source` unit buys, unrounded."""
        return self.rate(target) / self.rate(source)

    def quote(self, source: str, target: str) -> Quote:
        """The rate from `source` to `target` with its date and source, for an order to keep."""
        if source == target:
            return Quote(source, target, Decimal(1), self.as_of, self.source, self.set_id)
        origins = [self.origin(code) for code in (source, target) if code != self.base]
        return Quote(
            from_currency=source,
            to_currency=target,
            rate=self.cross_rate(source, target).quantize(RATE_QUANTUM).normalize(),
            as_of=min(origin.as_of for origin in origins),
            source="+".join(sorted({origin.source for origin in origins})),
            rate_set_id=self.set_id,
        )

    def convert(self, money: Money, target: str) -> Money:
        """Convert through the base, then round once to the target's minor units."""
        if money.currency == target:
            return money.quantize()
        with localcontext() as context:
            context.prec = _CONVERSION_PRECISION
            exact = money.amount * self.rate(target) / self.rate(money.currency)
            return Money(exact, target).quantize()

    def age(self, currency: str, now: dt.datetime) -> dt.timedelta:
        """How old `currency`'s rate is at `now`, counted from the end of its date (UTC).

        A daily rate is in force for the whole day it is dated (the ECB publishes at 16:00 CET),
        so Friday's rate is 2 days old on Monday morning, not 3.
        """
        end_of_day = dt.datetime.combine(self.origin(currency).as_of, dt.time(), dt.UTC)
        return now - (end_of_day + dt.timedelta(days=1))

    def is_stale(self, currency: str, now: dt.datetime, max_age_seconds: int) -> bool:
        """Whether a price in `currency` should be flagged (the base never is)."""
        if currency == self.base:
            return False
        return self.age(currency, now) > dt.timedelta(seconds=max_age_seconds)

    def stale_currencies(self, now: dt.datetime, max_age_seconds: int) -> list[str]:
        """The currencies whose rate is older than `max_age_seconds` (shown, flagged)."""
        return sorted(code for code in self.rates if self.is_stale(code, now, max_age_seconds))


def ensure_fresh(
    table: RateTable, currencies: Iterable[str], now: dt.datetime, max_age_seconds: int
) -> None:
    """Refuse (409 `rate_stale`) to convert any of `currencies` with a rate older than allowed.

    Orders call this for the order currency and every seller's currency; a currency without any
    rate is a 422 `rate_missing`. The base currency is never stale: its rate is 1 by definition.
    """
    stale = {
        code: table.origin(code).as_of.isoformat()
        for code in sorted(set(currencies))
        if table.is_stale(code, now, max_age_seconds)
    }
    if stale:
        raise StaleRate(
            _(
                "The exchange rates for %(currencies)s are out of date; orders in these currencies "
                "are paused until new rates are loaded.",
                currencies=", ".join(stale),
            ),
            extra={"currencies": sorted(stale), "as_of": stale},
        )
