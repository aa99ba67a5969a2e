"""ISO 4217 currencies and their minor units, from the data file beside this module."""

from __future__ import annotations

import csv
import functools
from decimal import Decimal
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "iso4217.csv"


class UnknownCurrency(ValueError):
    """A code that is not an active ISO 4217 currency."""


@functools.cache
def _table() -> dict[str, int]:
    with DATA_FILE.open(encoding="utf-8") as handle:
        return {row["code"]: int(row["minor_units"]) for row in csv.DictReader(handle)}


def known_currencies() -> frozenset[str]:
    return frozenset(_table())


def is_known(code: str) -> bool:
    return code in _table()


def minor_units(code: str) -> int:
    try:
        return _table()[code]
    except KeyError:
        raise UnknownCurrency(code) from None


@functools.cache
def quantum(code: str) -> Decimal:
    """The smallest amount of a currency: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-minor_units(code))
