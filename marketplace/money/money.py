"""Money: an exact Decimal amount with its ISO 4217 currency.

Arithmetic keeps full precision and refuses to mix currencies; `quantize` is the one place where
an amount is rounded (half-up, to the currency's minor units).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

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
    def from_minor(cls, units: int, currency: str) -> Money:
        """From integer minor units, the storage form: from_minor(1250, 'EUR') is 12.50 EUR."""
        return cls(Decimal(units).scaleb(-minor_units(currency)).quantize(quantum(currency)), currency)

    @property
    def minor(self) -> int:
        """Integer minor units; only for an amount already rounded to the currency."""
        scaled = self.amount.scaleb(minor_units(self.currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{self} is not rounded to {self.currency} minor units")
        return int(scaled)

    def quantize(self) -> Money:
        """Round once, half-up, to the currency's minor units."""
        return Money(self.amount.quantize(quantum(self.currency), rounding=ROUND_HALF_UP), self.currency)

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
