"""Amounts formatted for people, in their locale, through CLDR (Babel)."""

from __future__ import annotations

import copy

from babel import Locale
from babel.numbers import get_currency_name, get_currency_symbol

from marketplace.i18n import DEFAULT_LOCALE, parse_tag
from marketplace.money.currencies import known_currencies, minor_units
from marketplace.money.money import Money


def _locale(tag: str) -> Locale:
    locale = parse_tag(tag)
    if locale is None:
        fallback = parse_tag(DEFAULT_LOCALE)
        assert fallback is not None
        return fallback
    return locale


def format_money(money: Money, locale: str) -> str:
    """`money` as a reader of `locale` expects it ("CN¥1,234.50", "1 234,50 ₸").

    Decimals follow ISO 4217, not CLDR's own digit table (which shows IDR, HUF or IQD without
    decimals), so the formatted string always shows the same amount as the API's "amount".
    """
    where = _locale(locale)
    digits = minor_units(money.currency)
    pattern = copy.copy(where.currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern.apply(
        money.quantize().amount, where, currency=money.currency, currency_digits=False
    )


def currency_name(code: str, locale: str) -> str:
    return get_currency_name(code, locale=_locale(locale))


def currency_symbol(code: str, locale: str) -> str:
    return get_currency_symbol(code, locale=_locale(locale))


def currency_list(locale: str) -> list[dict[str, object]]:
    """Every active ISO 4217 currency with its name and symbol in `locale` (CLDR)."""
    return [
        {
            "code": code,
            "name": currency_name(code, locale),
            "minor_units": minor_units(code),
            "symbol": currency_symbol(code, locale),
        }
        for code in sorted(known_currencies())
    ]
