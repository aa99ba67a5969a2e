"""Money: an exact Decimal amount with its ISO 4217 currency.

Arithmetic keeps full precision and refuses to mix currencies; `quantize` is the one place where
an amount is rounded (half-up, to the currency's minor units).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, overload

from marketplace.errors import Invalid
from marketplace.i18n import _
from marketplace.money.currencies import UnknownCurrency, is_known, minor_units, quantum


class CurrencyMismatch(TypeError):
    """Two amounts in different currencies were combined without a conversion."""


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be a Decimal, not {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError("Money amount must be finite")
        if not is_known(self.currency):
            raise UnknownCurrency(self.currency)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Exact construction from a string, an int or a Decimal (never a float)."""
        if isinstance(amount, float):
            raise TypeError("floats are not money")
        return cls(Decimal(amount), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0).quantize(quantum(currency)), currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """The sum of `amounts`, all in `currency`; zero when there are none."""
        return sum(amounts, cls.zero(currency))

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """From integer minor units, the storage form: from_minor(1250, 'EUR') is 12.50 EUR."""
        return cls(
            Decimal(units).scaleb(-minor_units(currency)).quantize(quantum(currency)), currency
        )

    @property
    def minor(self) -> int:
        """Integer minor units; only for an amount already rounded to the currency."""
        scaled = self.amount.scaleb(minor_units(self.currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self} is not rounded to {self.currency} minor units")
        return int(scaled)

    def quantize(self) -> Money:
        """Round once, half-up, to the currency's minor units."""
        return Money(
            self.amount.quantize(quantum(self.currency), rounding=ROUND_HALF_UP), self.currency
        )

    def is_quantized(self) -> bool:
        return self.amount == self.amount.quantize(quantum(self.currency), rounding=ROUND_HALF_UP)

    def _same(self, other: Any) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float) or not isinstance(factor, int | Decimal):
            raise TypeError("Money is multiplied by int or Decimal only")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_negative(self) -> bool:
        return self.amount < 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def to_api(self) -> dict[str, str]:
        """The API shape: a string with exactly the currency's minor-unit digits."""
        rounded = self.quantize()
        return {"amount": format(rounded.amount, "f"), "currency": self.currency}


class MoneyColumn:
    """A model's amount as Money, over its integer minor-units column and its currency column.

    `goods = MoneyColumn("goods_minor")` on a model reads `Money.from_minor(goods_minor,
    currency)`; schemas dump it like any attribute. Read-only: services write the columns.
    """

    def __init__(self, minor: str, currency: str = "currency") -> None:
        self.minor = minor
        self.currency = currency

    @overload
    def __get__(self, instance: None, owner: type) -> MoneyColumn: ...

    @overload
    def __get__(self, instance: object, owner: type) -> Money: ...

    def __get__(self, instance: object | None, owner: type) -> Money | MoneyColumn:
        if instance is None:
            return self
        return Money.from_minor(getattr(instance, self.minor), getattr(instance, self.currency))


class InvalidAmount(Invalid):
    """An API amount that is not an exact decimal string acceptable for its currency."""

    code = "amount_invalid"
    default_detail = _('Not a valid amount: send a decimal string such as "12.50".')


AMOUNT_NOT_A_STRING = _('Amounts are decimal strings such as "12.50", not numbers.')

# Canonical decimal notation only: no sign but an optional leading minus, no leading zeros, no
# exponent, no spaces, ASCII digits only (Python's \d would also take Arabic-Indic digits).
_AMOUNT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
# Integer digits beyond this are refused: 10**15 major units of a 3-decimal currency still fits
# in a signed 64-bit count of minor units, the storage form.
MAX_INTEGER_DIGITS = 15
_MAX_LENGTH = MAX_INTEGER_DIGITS + 1 + 1 + 4


def parse_amount(
    value: object, currency: str, *, allow_negative: bool = False, allow_zero: bool = True
) -> Money:
    """An API amount ("12.50") as Money, refusing anything that is not exact and canonical.

    JSON numbers are refused (a float has already lost digits by the time it is parsed); so are
    exponents, NaN and Infinity, surrounding or inner whitespace, a plus sign, leading zeros, more
    decimals than the currency has, and absurd sizes. Fewer decimals than the currency has ("12"
    for EUR) are exact and accepted. The result is quantized to the currency.
    """
    if not is_known(currency):
        raise Invalid(_("Not a valid currency code."), code="currency_unknown")
    digits = minor_units(currency)
    if not isinstance(value, str):
        raise InvalidAmount(AMOUNT_NOT_A_STRING)
    if len(value) > _MAX_LENGTH + digits or _AMOUNT.fullmatch(value) is None:
        raise InvalidAmount()
    whole, _point, fraction = value.lstrip("-").partition(".")
    if len(fraction) > digits:
        raise InvalidAmount(
            _(
                "%(currency)s amounts have at most %(digits)s decimal places.",
                currency=currency,
                digits=digits,
            ),
            extra={"max_decimals": digits},
        )
    if len(whole) > MAX_INTEGER_DIGITS:
        raise InvalidAmount(_("The amount is too large."))
    amount = Decimal(value)
    if amount.is_zero():
        if value.startswith("-"):
            raise InvalidAmount()
        if not allow_zero:
            raise InvalidAmount(_("The amount must not be zero."))
    if amount < 0 and not allow_negative:
        raise InvalidAmount(_("The amount must not be negative."))
    return Money(amount, currency).quantize()


def allocate(total: Money, weights: Sequence[int | Decimal]) -> list[Money]:
    """Split `total` over parts in proportion to `weights`, losing no minor unit.

    Largest remainder: each part gets the floor of its exact share in minor units, and the units
    left over go one each to the parts with the largest fractional remainders (earlier parts win
    ties), so the parts always add up to the total exactly. Zero weights get nothing.
    """
    if not total.is_quantized():
        raise ValueError(f"{total} must be quantized before it is allocated")
    if not weights:
        raise ValueError("allocate needs at least one weight")
    exact: list[Fraction] = []
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, int | Decimal):
            raise TypeError("allocation weights are int or Decimal")
        if isinstance(weight, Decimal) and not weight.is_finite():
            raise ValueError("allocation weights must be finite")
        if weight < 0:
            raise ValueError("allocation weights must not be negative")
        exact.append(Fraction(weight))
    weight_sum = sum(exact, Fraction(0))
    if weight_sum == 0:
        raise ValueError("allocation weights must not all be zero")
    units = abs(total.minor)
    shares = [units * weight / weight_sum for weight in exact]
    parts = [share.numerator // share.denominator for share in shares]
    leftover = units - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    sign = -1 if total.is_negative() else 1
    return [Money.from_minor(sign * part, total.currency) for part in parts]
