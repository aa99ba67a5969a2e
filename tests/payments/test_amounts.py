"""Amounts at the gateway edge: Stripe's minor units, rounded once, in one function."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import Money
from marketplace.payments.adapters.stripe import (
    SUPPORTED_CURRENCIES,
    from_stripe_amount,
    to_stripe_amount,
)
from marketplace.payments.gateway import CurrencyNotSupported


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("12.50", "EUR", 1250),
        ("1500", "JPY", 1500),
        ("1500", "KRW", 1500),
        ("12.345", "KWD", 12350),  # half-up to the nearest ten
        ("12.341", "KWD", 12340),  # nearest, not up: Medusa's helper would send 12350
        ("0.005", "BHD", 10),
        ("7.004", "OMR", 7000),
        ("1500", "ISK", 150000),  # Stripe writes ISK with two decimals, always 00
        ("1500.50", "MGA", 1501),  # ISO gives MGA two decimals; Stripe takes whole ariary
        ("99.99", "KZT", 9999),
    ],
)
def test_amounts_reach_stripe_in_its_minor_units(amount: str, currency: str, units: int) -> None:
    assert to_stripe_amount(Money.of(amount, currency)) == units


@pytest.mark.parametrize("currency", ["IRR", "KPW", "SYP", "CUP", "SDG", "VES", "IQD", "LYD"])
def test_currencies_stripe_does_not_take_are_refused_with_a_422(currency: str) -> None:
    with pytest.raises(CurrencyNotSupported) as refused:
        to_stripe_amount(Money.of("100", currency))
    assert refused.value.status == 422
    assert refused.value.error_code == "currency_not_supported_by_gateway"
    assert "currency" in refused.value.errors


@given(st.integers(min_value=1, max_value=10**12))
def test_three_decimal_amounts_end_in_zero_and_move_at_most_five_thousandths(
    thousandths: int,
) -> None:
    money = Money.from_minor(thousandths, "KWD")
    units = to_stripe_amount(money)
    assert units % 10 == 0
    assert abs(units - thousandths) <= 5


@given(st.sampled_from(sorted(SUPPORTED_CURRENCIES)), st.integers(min_value=1, max_value=10**9))
def test_what_stripe_reports_reads_back_as_the_same_amount(currency: str, units: int) -> None:
    if currency in {"BHD", "JOD", "KWD", "OMR", "TND"}:
        units *= 10
    if currency == "ISK":
        units *= 100
    money = from_stripe_amount(units, currency.lower())
    assert money.currency == currency
    assert to_stripe_amount(money) == units
    assert money.amount > Decimal(0)
