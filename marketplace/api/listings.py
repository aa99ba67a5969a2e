"""Seller-side listings: create, read, change, archive, translate, import from CSV."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.api import accepts, context
from marketplace.api.money_fields import MoneyField, MoneyOutputSchema
from marketplace.api.openapi import raises
from marketplace.api.schemas import (
    DESTINATIONS,
    Country,
    LocaleTag,
    PageArgsSchema,
    StrictSchema,
    choices,
    hs_code_field,
    text,
)
from marketplace.api.uploads import body_or_form_file, multipart_file_body, upload_limit
from marketplace.catalogue import csv_import, services, variants
from marketplace.catalogue.csv_import import ImportRejected
from marketplace.catalogue.models import (
    Listing,
    ListingStatus,
    ListingTranslation,
    ListingVariant,
)
from marketplace.catalogue.services import InvalidLanguage, SkuTaken, TranslationIsOriginal
from marketplace.countries import is_country
from marketplace.customs import hs
from marketplace.db import utcnow
from marketplace.errors import Invalid, NotFound
from marketplace.i18n import N_
from marketplace.money import RateTable
from marketplace.money import services as money_services

blp = Blueprint("listings", __name__, description="Sellers' listings and their translations")

MAX_STOCK = 1_000_000_000
MAX_WEIGHT_GRAMS = 10_000_000


class ShipsTo(fields.List):
    """`["*"]` (everywhere) or ISO 3166-1 alpha-2 countries."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            fields.String(validate=_destination, metadata={"enum": DESTINATIONS}),
            validate=validate.Length(min=1, max=250),
            metadata={"example": ["KZ", "UZ"]},
            **kwargs,
        )


def _destination(value: str) -> None:
    if value != services.EVERYWHERE and not is_country(value):
        raise ma.ValidationError(N_("Not a valid country code."))


SKU_PATTERN = r"^[^\s\x00-\x1f][^\x00-\x1f]{0,63}$"
OPTION_WORD = validate.Regexp(r"^[^\s\x00-\x1f][^\x00-\x1f]{0,99}$", error=N_("Invalid value."))


def sku_field(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(SKU_PATTERN, error=N_("Invalid value.")),
        metadata={"description": "The seller's stock-keeping unit, unique per seller"},
        **kwargs,
    )


def _distinct(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError(N_("Each axis may be named once."))


class ListingFieldsSchema(StrictSchema):
    sku = sku_field(required=True)
    language = LocaleTag(required=True)
    title = text(200)
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    price = MoneyField(required=True, allow_zero=False)
    stock = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_STOCK)
    )
    weight_grams = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_WEIGHT_GRAMS)
    )
    hs_code = hs_code_field(required=True)
    origin_country = Country(required=True)
    ships_to = ShipsTo(required=True)
    low_stock_threshold = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_STOCK),
        metadata={"description": "`low_stock` turns true when stock falls to this; null: never"},
    )
    status = fields.String(
        load_default=ListingStatus.DRAFT,
        validate=validate.OneOf([ListingStatus.DRAFT, ListingStatus.PUBLISHED]),
    )
    option_axes = fields.List(
        fields.String(validate=OPTION_WORD),
        validate=[validate.Length(max=variants.MAX_AXES), _distinct],
        metadata={
            "description": "The option axes variants are told apart by, in the listing's "
            'language (["size", "colour"]); [] or absent: one default variant',
            "example": ["size", "colour"],
        },
    )


class ListingCreateSchema(ListingFieldsSchema):
    seller_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class ListingPatchSchema(ListingFieldsSchema):
    """Any subset of the fields; `archived` is a status a seller may set here."""

    status = fields.String(validate=validate.OneOf(choices(ListingStatus)))


class ListingSchema(StrictSchema):
    id = fields.String(required=True)
    seller_id = fields.String(required=True)
    sku = fields.String(required=True)
    language = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    category = fields.String(allow_none=True)
    price = fields.Nested(MoneyOutputSchema, required=True)
    stock = fields.Integer(
        required=True,
        metadata={"description": "Units on hand not held by unpaid orders"},
    )
    available = fields.Integer(
        required=True, metadata={"description": "Units buyers can order now"}
    )
    low_stock_threshold = fields.Integer(required=True, allow_none=True)
    low_stock = fields.Boolean(
        required=True, metadata={"description": "Stock is at or below the threshold"}
    )
    weight_grams = fields.Integer(required=True)
    hs_code = fields.String(required=True)
    origin_country = fields.String(required=True)
    ships_to = fields.List(fields.String(), required=True)
    status = fields.String(required=True, metadata={"enum": choices(ListingStatus)})
    option_axes = fields.List(fields.String(), required=True, attribute="axes")
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ListingQuerySchema(PageArgsSchema):
    seller_id = fields.String(load_default=None, validate=validate.Length(max=36))
    status = fields.String(load_default=None, validate=validate.OneOf(choices(ListingStatus)))


class ListingPageSchema(ma.Schema):
    items = fields.List(fields.Nested(ListingSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class OptionTextSchema(StrictSchema):
    name = fields.String(
        load_default=None,
        allow_none=True,
        validate=OPTION_WORD,
        metadata={"description": "The axis's name in this locale"},
    )
    values = fields.Dict(
        keys=fields.String(validate=OPTION_WORD),
        values=fields.String(validate=OPTION_WORD),
        load_default=dict,
        validate=validate.Length(max=variants.MAX_VARIANTS),
        metadata={"description": "{value in the listing's language: value in this locale}"},
    )


class TranslationBodySchema(StrictSchema):
    title = text(200)
    description = fields.String(load_default="", validate=validate.Length(max=20_000))
    options = fields.Dict(
        keys=fields.String(validate=OPTION_WORD),
        values=fields.Nested(OptionTextSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=variants.MAX_AXES),
        metadata={
            "description": "The option axes and their values in this locale, by axis "
            '({"size": {"name": "Размер", "values": {"M": "М"}}})'
        },
    )


class TranslationSchema(StrictSchema):
    locale = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    options = fields.Dict(
        keys=fields.String(), values=fields.Nested(OptionTextSchema), required=True, allow_none=True
    )
    updated_at = fields.DateTime(required=True)


class VariantInSchema(StrictSchema):
    id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=36),
        metadata={"description": "A variant of this listing to keep and update; absent: a new one"},
    )
    sku = sku_field(required=True)
    options = fields.Dict(
        keys=fields.String(validate=OPTION_WORD),
        values=fields.String(validate=OPTION_WORD),
        required=True,
        validate=validate.Length(max=variants.MAX_AXES),
        metadata={
            "description": "A value for each of the listing's option_axes",
            "example": {"size": "M", "colour": "red"},
        },
    )
    price = MoneyField(
        load_default=None,
        allow_none=True,
        allow_zero=False,
        metadata={"description": "In the listing's currency; null: the listing's price"},
    )
    stock = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=MAX_STOCK)
    )
    weight_grams = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_WEIGHT_GRAMS),
        metadata={"description": "null: the listing's weight"},
    )
    hs_code = hs_code_field(load_default=None, allow_none=True)
    low_stock_threshold = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_STOCK),
        metadata={"description": "null: the listing's"},
    )


class VariantSchema(StrictSchema):
    id = fields.String(required=True)
    sku = fields.String(required=True)
    options = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    price = fields.Nested(
        MoneyOutputSchema,
        required=True,
        allow_none=True,
        metadata={"description": "null: the listing's"},
    )
    stock = fields.Integer(
        required=True, metadata={"description": "Units on hand not held by unpaid orders"}
    )
    weight_grams = fields.Integer(required=True, allow_none=True)
    hs_code = fields.String(required=True, allow_none=True)
    low_stock_threshold = fields.Integer(required=True, allow_none=True)


class ImportQuerySchema(StrictSchema):
    seller_id = fields.String(
        load_default=None,
        validate=validate.Length(max=36),
        metadata={"description": "Needed when the caller belongs to several sellers"},
    )


class ImportResultSchema(StrictSchema):
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    rows = fields.Integer(required=True)


def current_rates() -> RateTable | None:
    """The rate table in force for catalogue pages and listings (None: prices shown as listed)."""
    return money_services.current_rates(
        context.db(), reuse_for=context.settings()["CATALOGUE_RATES_TTL"]
    )


@blp.route("/listings")
class Listings(MethodView):
    @context.user_required
    @blp.arguments(ListingQuerySchema, location="query")
    @blp.response(200, ListingPageSchema)
    @raises(NotFound)
    def get(self, query: dict[str, Any]) -> services.ListingPage:
        """The caller's sellers' listings, drafts and archived ones included, newest first."""
        return services.list_own_listings(
            context.db(),
            context.require_user(),
            seller_id=query["seller_id"],
            status=query["status"],
            limit=query["limit"],
            after=query["cursor"],
        )

    @context.user_required
    @blp.arguments(ListingCreateSchema)
    @blp.response(201, ListingSchema)
    @raises(NotFound, SkuTaken)
    def post(self, body: dict[str, Any]) -> Listing:
        """List a good for one of the caller's sellers."""
        return services.create_listing(
            context.db(), context.require_user(), body, current_rates(), hs_check=hs.validate
        )


@blp.route("/listings/<listing_id>")
class ListingResource(MethodView):
    @context.user_required
    @blp.response(200, ListingSchema)
    def get(self, listing_id: str) -> Listing:
        """One of the caller's sellers' listings."""
        return services.get_own_listing(context.db(), context.require_user(), listing_id)

    @context.user_required
    @blp.arguments(ListingPatchSchema(partial=True))
    @blp.response(200, ListingSchema)
    @raises(SkuTaken, services.AxesInUse, services.HasVariants)
    def patch(self, body: dict[str, Any], listing_id: str) -> Listing:
        """Change some fields of a listing."""
        return services.update_listing(
            context.db(),
            context.require_user(),
            listing_id,
            body,
            current_rates(),
            hs_check=hs.validate,
        )

    @context.user_required
    @blp.response(204)
    def delete(self, listing_id: str) -> None:
        """Delete a listing; one that orders refer to is archived instead (hidden, kept)."""
        services.remove_listing(context.db(), context.require_user(), listing_id)


@blp.route("/listings/<listing_id>/translations")
class Translations(MethodView):
    @context.user_required
    @blp.response(200, TranslationSchema(many=True))
    def get(self, listing_id: str) -> list[ListingTranslation]:
        """Every translation of a listing."""
        return services.list_translations(context.db(), context.require_user(), listing_id)


@blp.route("/listings/<listing_id>/translations/<locale>")
class TranslationResource(MethodView):
    @context.user_required
    @blp.arguments(TranslationBodySchema)
    @blp.response(200, TranslationSchema)
    @raises(InvalidLanguage, TranslationIsOriginal)
    def put(self, body: dict[str, Any], listing_id: str, locale: str) -> ListingTranslation:
        """Create or replace the listing's title, description and option names in a BCP 47
        locale."""
        return services.put_translation(
            context.db(),
            context.require_user(),
            listing_id,
            locale,
            title=body["title"],
            description=body["description"],
            options=body["options"],
        )

    @context.user_required
    @blp.response(204)
    @raises(InvalidLanguage)
    def delete(self, listing_id: str, locale: str) -> None:
        """Remove one translation."""
        services.delete_translation(context.db(), context.require_user(), listing_id, locale)


VARIANT_PROBLEMS = tuple(
    (variants.VariantsInvalid, code)
    for code in (
        "variants_empty",
        "variant_unknown",
        "variant_duplicate",
        "sku_duplicate",
        "variant_axis_unknown",
        "variant_axis_missing",
        "variant_options_duplicate",
        "variant_currency_mismatch",
        "too_many_variants",
    )
)


@blp.route("/listings/<listing_id>/variants")
class Variants(MethodView):
    @context.user_required
    @blp.response(200, VariantSchema(many=True))
    @raises(NotFound)
    def get(self, listing_id: str) -> list[ListingVariant]:
        """The variants a listing offers, in order."""
        return variants.list_variants(context.db(), context.require_user(), listing_id)

    @context.user_required
    @blp.arguments(VariantInSchema(many=True))
    @blp.response(200, VariantSchema(many=True))
    @raises(NotFound, SkuTaken, (Invalid, "hs_code_invalid"), *VARIANT_PROBLEMS)
    def put(self, body: list[dict[str, Any]], listing_id: str) -> list[ListingVariant]:
        """Replace the variants a listing offers: entries with an id (or an existing SKU) are
        updated, new ones added, the rest removed (kept for the orders that refer to them)."""
        return variants.replace_variants(
            context.db(),
            context.require_user(),
            listing_id,
            body,
            hs_check=hs.validate,
            now=utcnow(),
        )


@blp.route("/listings/import", methods=["POST"])
@context.user_required
@accepts("text/csv", "multipart/form-data")
@upload_limit("MAX_UPLOAD_LENGTH")
@blp.arguments(ImportQuerySchema, location="query")
@blp.doc(requestBody=multipart_file_body(csv_import.__doc__ or "", "text/csv"))
@blp.response(200, ImportResultSchema)
@raises(
    NotFound,
    (Invalid, "seller_required"),
    ImportRejected,
    (ImportRejected, "csv_not_utf8"),
    (ImportRejected, "csv_nul_byte"),
    (ImportRejected, "csv_empty"),
    (ImportRejected, "import_too_many_rows"),
)
def import_listings(query: dict[str, Any]) -> csv_import.ImportResult:
    """Create or update listings by SKU from a CSV file (the body or a form's `file`): all or none."""
    settings = context.settings()
    try:
        return csv_import.import_csv(
            context.db(),
            context.require_user(),
            body_or_form_file(),
            seller_id=query["seller_id"],
            rates=current_rates(),
            hs_check=hs.BulkCheck(),
            limits=csv_import.ImportLimits(
                settings["MAX_IMPORT_ROWS"], settings["MAX_IMPORT_ERRORS"]
            ),
        )
    finally:
        # A file refused early still arrives in full, so the client reads the answer instead
        # of a broken pipe; reading it costs only the transfer.
        while request.stream.read(1024 * 1024):
            pass
