"""Schemas shared by every resource: problems, pagination, common field types."""

from __future__ import annotations

import enum
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.countries import COUNTRIES
from marketplace.i18n import N_
from marketplace.money.currencies import known_currencies


class StrictSchema(ma.Schema):
    """Unknown fields are an error, not silently dropped: a typo must not look like success."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


def choices(enum_type: type[enum.StrEnum]) -> list[str]:
    """An enum's values, for a field's `OneOf` or OpenAPI `enum`: the model's enum is the one list."""
    return [member.value for member in enum_type]


class OmitsNulls(ma.Schema):
    """Dumps leave an empty optional field out rather than writing null."""

    @ma.post_dump
    def _without_nulls(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        return {key: value for key, value in data.items() if value is not None}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with a stable machine code and per-field messages.

    Problems may carry extension members (e.g. the short lines of `insufficient_stock`).
    """

    class Meta:
        unknown = ma.INCLUDE

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Messages per field path"},
    )
    # Extension members, each present only with the codes named.
    lines = fields.List(
        fields.Dict(),
        metadata={
            "description": "`insufficient_stock`: [{listing_id, requested, available}]; "
            "`reservation_limit`: [{listing_id, requested, held}]"
        },
    )
    limit = fields.Integer(
        metadata={"description": "`too_many_unpaid_orders`, `reservation_limit`: the limit"}
    )
    rows = fields.List(
        fields.Dict(),
        metadata={"description": "`import_rejected`: the first problems, [{row, column, message}]"},
    )
    error_count = fields.Integer(
        metadata={"description": "`import_rejected`: how many problems the file has in all"}
    )
    accepted = fields.List(
        fields.String(), metadata={"description": "415: the content types this operation takes"}
    )
    refundable = fields.Dict(
        metadata={"description": "`refund_exceeds_payment`: what may still be refunded (money)"}
    )
    payable = fields.Dict(metadata={"description": "the amount payable (money)"})
    currencies = fields.List(
        fields.String(), metadata={"description": "`rate_stale`: the stale currencies"}
    )
    as_of = fields.Raw(metadata={"description": "`rate_stale`: the dates of the stale rates"})
    currency = fields.String(metadata={"description": "the currency concerned"})
    max_decimals = fields.Integer(
        metadata={"description": "`amount_invalid`: decimals the currency allows"}
    )
    country = fields.String(metadata={"description": "`no_customs_rule`: the destination"})
    date = fields.String(metadata={"description": "`no_customs_rule`: the day"})
    conflicting_rule_id = fields.String(
        metadata={"description": "`customs_rule_overlap`: the rule in the way"}
    )
    gateway_code = fields.String(metadata={"description": "the payment gateway's own code"})
    order_status = fields.String(metadata={"description": "`invalid_transition`: order status"})
    shipment_status = fields.String(
        metadata={"description": "`invalid_transition`: the shipment's status"}
    )
    action = fields.String(metadata={"description": "`invalid_transition`: what was attempted"})


# 6 to 10 digits, a dot or a space allowed between two of them ("0902.10 00"); whether the first
# six are a real subheading is the nomenclature's to say (`hs_code_invalid`).
HS_CODE_PATTERN = r"^[0-9](?:[. ]?[0-9]){5,9}$"


def hs_code_field(**kwargs: Any) -> fields.String:
    """An HS code as a seller types it: the syntax is checked here and documented."""
    return fields.String(
        validate=validate.Regexp(
            HS_CODE_PATTERN,
            error=N_("An HS code has 6 to 10 digits (dots and spaces are allowed)."),
        ),
        metadata={
            "example": "0902.10",
            "description": "6-10 digits; first six a HS 2022 subheading",
        },
        **kwargs,
    )


# Cursors are URL-safe base64 without padding (marketplace/pagination.py).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,512}$"


class PageArgsSchema(StrictSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(
        load_default=None,
        validate=validate.Regexp(
            CURSOR_PATTERN,
            error=N_("This cursor is not valid for this request; start again without it."),
        ),
        metadata={"description": "`next_cursor` of the previous page"},
    )


def variant_options(description: str, **kwargs: Any) -> fields.Dict:
    """A variant's options, axis name to value (`{}` for a listing without variants)."""
    return fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": description},
        **kwargs,
    )


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """`{"items": [...], "next_cursor": ...}` around an item schema."""
    attrs: dict[str, Any] = {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, required=True),
    }
    return type(name, (ma.Schema,), attrs)


def text(max_length: int, *, required: bool = True, **kwargs: Any) -> fields.String:
    """A required string that may not be blank and is bounded in length."""
    return fields.String(
        required=required, validate=validate.Length(min=1, max=max_length), **kwargs
    )


class Country(fields.String):
    """ISO 3166-1 alpha-2, upper case."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=validate.OneOf(sorted(COUNTRIES), error=N_("Not a valid country code.")),
            metadata={"example": "KZ"},
            **kwargs,
        )


# A country, or "*" for everywhere (a listing's destinations, a shipping rate's countries).
DESTINATIONS = [*sorted(COUNTRIES), "*"]


class CurrencyCode(fields.String):
    """Active ISO 4217 alphabetic code, upper case (marketplace/money/data/iso4217.csv)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=validate.OneOf(
                sorted(known_currencies()), error=N_("Not a valid currency code.")
            ),
            metadata={"example": "KZT"},
            **kwargs,
        )


LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class LocaleTag(fields.String):
    """A BCP 47 language tag such as zh-Hans or kk."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=[
                validate.Length(max=35),
                validate.Regexp(LOCALE_PATTERN, error=N_("Not a valid language tag.")),
            ],
            metadata={"example": "zh-Hans"},
            **kwargs,
        )


PHONE = validate.Regexp(r"^\+?[0-9 ()-]{5,30}$", error=N_("Not a valid telephone number."))


class AddressSchema(StrictSchema):
    """A postal address; `phone` and `email` are the recipient's, for carriers and the CN 23."""

    name = text(200, required=False)
    line1 = text(200)
    line2 = text(200, required=False)
    city = text(100)
    region = text(100, required=False)
    postal_code = text(20, required=False)
    country = Country(required=True)
    phone = fields.String(validate=PHONE, metadata={"example": "+7 701 234 5678"})
    email = fields.Email(validate=validate.Length(max=254))
