"""Money, currencies, exchange rates and conversion."""

from marketplace.money.currencies import UnknownCurrency, is_known, minor_units
from marketplace.money.money import CurrencyMismatch, InvalidAmount, Money, allocate, parse_amount
from marketplace.money.rates import MissingRate, RateTable

__all__ = [
    "CurrencyMismatch",
    "InvalidAmount",
    "MissingRate",
    "Money",
    "RateTable",
    "UnknownCurrency",
    "allocate",
    "is_known",
    "minor_units",
    "parse_amount",
]
