"""Money in and out of the API: `{"amount": "12.50", "currency": "CNY"}`, never a float.

Other resources nest these: `price = MoneyField(required=True)` loads a `Money`;
`price = fields.Nested(MoneyOutputSchema(formatted=True))` dumps one (with `formatted` in the
request's locale).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields

from marketplace.api.schemas import CurrencyCode, StrictSchema
from marketplace.errors import Invalid
from marketplace.i18n import current_locale
from marketplace.money import Money, parse_amount
from marketplace.money.formatting import format_money
from marketplace.money.money import AMOUNT_NOT_A_STRING

NON_NEGATIVE = r"^(0|[1-9][0-9]*)(\.[0-9]+)?$"
POSITIVE = r"^([1-9][0-9]*(\.[0-9]+)?|0\.[0-9]*[1-9][0-9]*)$"


class Amount(fields.String):
    """The amount's string; checked against its currency by the enclosing schema."""

    def __init__(self, pattern: str = NON_NEGATIVE, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata",
            {
                "example": "12.50",
                "pattern": pattern,
                "description": "Decimal string with at most the currency's minor-unit digits",
            },
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ma.ValidationError(str(AMOUNT_NOT_A_STRING))
        return value


class MoneyInputSchema(StrictSchema):
    """Loads `{"amount", "currency"}` into a Money; negatives refused unless allowed."""

    amount = Amount(required=True)
    currency = CurrencyCode(required=True)

    def __init__(
        self, *, allow_negative: bool = False, allow_zero: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.allow_negative = allow_negative
        self.allow_zero = allow_zero

    @ma.post_load
    def to_money(self, data: dict[str, Any], **_kwargs: Any) -> Money:
        try:
            return parse_amount(
                data["amount"],
                data["currency"],
                allow_negative=self.allow_negative,
                allow_zero=self.allow_zero,
            )
        except Invalid as exc:
            raise ma.ValidationError({"amount": [str(exc.detail)]}) from exc


class PositiveMoneyInputSchema(MoneyInputSchema):
    """An amount that must be more than zero (a price, a refund): its own component, so that the
    document says so."""

    amount = Amount(POSITIVE, required=True)


class MoneyField(fields.Nested):
    """A nested `{"amount", "currency"}` input that loads as `Money`."""

    def __init__(
        self, *, allow_negative: bool = False, allow_zero: bool = True, **kwargs: Any
    ) -> None:
        schema = MoneyInputSchema if allow_zero else PositiveMoneyInputSchema
        super().__init__(schema(allow_negative=allow_negative, allow_zero=allow_zero), **kwargs)

    def _load(self, value: Any, partial: Any = None) -> Any:
        """An amount is whole or invalid: a PATCH (partial load) may omit it, never half of it."""
        return super()._load(value, partial=False)


class MoneyOutputSchema(ma.Schema):
    """Dumps a Money as `{"amount", "currency"}`, plus `formatted` when asked for."""

    amount = fields.String(required=True, metadata={"example": "12.50"})
    currency = fields.String(required=True, metadata={"example": "CNY"})
    formatted = fields.String(
        metadata={"example": "CN¥12.50", "description": "In the response locale (CLDR)"}
    )

    def __init__(self, *, formatted: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.with_formatted = formatted

    @ma.pre_dump
    def from_money(self, value: Money | dict[str, str], **_kwargs: Any) -> dict[str, str]:
        if isinstance(value, Money):
            return money_to_api(value, formatted=self.with_formatted)
        return value


def money_to_api(
    money: Money, *, formatted: bool = False, locale: str | None = None
) -> dict[str, str]:
    """The API shape of an amount, `formatted` in `locale` (default: the request's)."""
    data = money.to_api()
    if formatted:
        data["formatted"] = format_money(money, locale or current_locale())
    return data
