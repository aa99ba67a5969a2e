"""Money, currencies, exchange rates and conversion."""

from marketplace.money.currencies import UnknownCurrency, is_known, minor_units
from marketplace.money.money import CurrencyMismatch, Money
from marketplace.money.rates import MissingRate, RateTable

__all__ = [
    "CurrencyMismatch",
    "MissingRate",
    "Money",
    "RateTable",
    "UnknownCurrency",
    "is_known",
    "minor_units",
]
