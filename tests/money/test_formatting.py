"""Amounts and currency names as people in each supported locale read them (CLDR via Babel)."""

from __future__ import annotations

import pytest

from marketplace.money import Money
from marketplace.money.formatting import currency_list, format_money

NBSP = "\u00a0"
RLM = "\u200f"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "CN¥1,234.50"),
        ("ru", f"1{NBSP}234,50{NBSP}CN¥"),
        ("zh-Hans", "¥1,234.50"),
        ("ar", f"{RLM}1,234.50{NBSP}CN¥"),
        ("kk", f"1{NBSP}234,50{NBSP}CN¥"),
        ("tr", "CN¥1.234,50"),
    ],
)
def test_the_same_yuan_amount_reads_right_in_every_locale(locale: str, expected: str) -> None:
    assert format_money(Money.of("1234.5", "CNY"), locale) == expected


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money.of("98765", "JPY"), "en", "¥98,765"),
        (Money.of("98765", "JPY"), "zh-Hans", "JP¥98,765"),
        (Money.of("1234567.891", "KWD"), "en", "KWD1,234,567.891"),
        (Money.of("1234567.891", "KWD"), "ar", f"{RLM}1,234,567.891{NBSP}د.ك.{RLM}"),
        (Money.of("1234.5", "KZT"), "kk", f"1{NBSP}234,50{NBSP}₸"),
        (Money.of("-1234.5", "USD"), "ru", f"-1{NBSP}234,50{NBSP}$"),
        (Money.of("-1234.5", "USD"), "ar", f"{RLM}-1,234.50{NBSP}US$"),
        (Money.of("1234.5", "TRY"), "tr", "₺1.234,50"),
    ],
)
def test_decimals_follow_the_currency_and_symbols_the_locale(
    money: Money, locale: str, expected: str
) -> None:
    assert format_money(money, locale) == expected


def test_iso_decimals_win_over_cldr_cash_digits() -> None:
    # CLDR shows IDR without decimals; the API amount has two, and so does the display.
    assert format_money(Money.of("15210.73", "IDR"), "en") == "IDR15,210.73"


def test_unrounded_amounts_are_shown_rounded_half_up_like_the_api() -> None:
    assert format_money(Money.of("0.005", "EUR"), "en") == "€0.01"


def test_an_unknown_locale_falls_back_to_english() -> None:
    assert format_money(Money.of("1", "EUR"), "xx") == "€1.00"


def test_currency_names_and_symbols_come_from_cldr_in_the_locale() -> None:
    kk = {c["code"]: c for c in currency_list("kk")}
    assert kk["KZT"] == {
        "code": "KZT",
        "name": "Қазақстан теңгесі",
        "minor_units": 2,
        "symbol": "₸",
    }
    zh = {c["code"]: c for c in currency_list("zh-Hans")}
    assert zh["CNY"]["name"] == "人民币" and zh["CNY"]["symbol"] == "¥"
    assert {c["code"]: c["minor_units"] for c in currency_list("en")}["KWD"] == 3
