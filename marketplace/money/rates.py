"""Exchange-rate tables and conversion through their base currency (cross rates)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from marketplace.errors import Invalid
from marketplace.i18n import _
from marketplace.money.money import Money


class MissingRate(Invalid):
    code = "rate_missing"
    default_detail = _("No exchange rate is known for this currency pair.")


@dataclass(frozen=True)
class RateTable:
    """Units of each currency per one unit of `base` (ECB style: 1 EUR = 1.0163 USD)."""

    base: str
    as_of: dt.date
    source: str
    rates: Mapping[str, Decimal] = field(default_factory=dict)

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

    def cross_rate(self, source: str, target: str) -> Decimal:
        """How many `target` units one `source` unit buys, unrounded."""
        return self.rate(target) / self.rate(source)

    def convert(self, money: Money, target: str) -> Money:
        """Convert through the base, then round once to the target's minor units."""
        if money.currency == target:
            return money.quantize()
        exact = money.amount * self.rate(target) / self.rate(money.currency)
        return Money(exact, target).quantize()
