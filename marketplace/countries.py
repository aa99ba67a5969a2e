"""ISO 3166-1 alpha-2 country codes, from CLDR's territory list (through Babel)."""

from __future__ import annotations

from babel import Locale

# CLDR territories minus its groupings and placeholders (EU, UN, ZZ "unknown region", ...).
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}

COUNTRIES: frozenset[str] = frozenset(
    str(code)
    for code in Locale("en").territories
    if len(str(code)) == 2 and str(code).isalpha() and code not in _NOT_COUNTRIES
)


def is_country(code: str) -> bool:
    return code in COUNTRIES
