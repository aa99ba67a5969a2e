"""Money, currencies, exchange rates and conversion."""

from marketplace.money.currencies import UnknownCurrency, is_known, minor_units
from marketplace.money.money import (
    CurrencyMismatch,
    InvalidAmount,
    Money,
    MoneyColumn,
    allocate,
    parse_amount,
)
from marketplace.money.rates import MissingRate, Quote, RateTable, StaleRate, ensure_fresh

__all__ = [
    "CurrencyMismatch",
    "InvalidAmount",
    "MissingRate",
    "Money",
    "MoneyColumn",
    "Quote",
    "RateTable",
    "StaleRate",
    "UnknownCurrency",
    "allocate",
    "ensure_fresh",
    "is_known",
    "minor_units",
    "parse_amount",
]
