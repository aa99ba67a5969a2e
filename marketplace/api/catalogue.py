"""The public catalogue: browsing, one listing, and the category tree; cacheable with ETags."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict
from typing import Any

import marshmallow as ma
import orjson
from flask import Response, request
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.api import context, listings
from marketplace.api.customs import LandedCostTotalsSchema
from marketplace.api.images import ImageUrlsSchema, media_prefix, urls
from marketplace.api.money_fields import MoneyOutputSchema, money_to_api
from marketplace.api.openapi import raises
from marketplace.api.schemas import Country, CurrencyCode, LocaleTag, StrictSchema
from marketplace.catalogue import browse, categories, facets, locales
from marketplace.catalogue.browse import CurrencyRequired
from marketplace.catalogue.search import suggest
from marketplace.checkout import pricing
from marketplace.customs.landed_cost import Incoterm
from marketplace.customs.quotes import BasketQuote
from marketplace.db import utcnow
from marketplace.errors import DomainError, Invalid
from marketplace.i18n import N_, current_locale
from marketplace.money import Money, parse_amount

blp = Blueprint("catalogue", __name__, description="The public catalogue, localized and converted")

PUBLIC_MAX_AGE = 60


_FACET = "|".join(sorted(facets.FACETS))


class FacetNames(fields.String):
    """`category,origin,seller,price`: any of them, comma-separated."""

    default_error_messages = {
        "invalid_facet": N_("Not a facet: use category, origin, seller, price.")
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            validate=validate.Length(max=64),
            metadata={
                "example": "category,price",
                "description": "Add facet counts",
                "pattern": rf"^(?:{_FACET})(?:,(?:{_FACET}))*$",
            },
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        names = [
            n.strip() for n in str(super()._deserialize(value, attr, data, **kwargs)).split(",")
        ]
        if any(name not in facets.FACETS for name in names):
            raise self.make_error("invalid_facet")
        return tuple(dict.fromkeys(names))


PRICE_BOUND = {
    "example": "10.00",
    "pattern": r"^(0|[1-9][0-9]*)(\.[0-9]+)?$",
    "description": "In the display currency, at most its minor-unit digits",
}


class CatalogueQuerySchema(StrictSchema):
    locale = LocaleTag(load_default=None)
    currency = CurrencyCode(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    category = fields.String(load_default=None, validate=validate.Length(max=64))
    ship_to = Country(load_default=None)
    origin = Country(load_default=None)
    seller_id = fields.String(load_default=None, validate=validate.Length(max=36))
    min_price = fields.String(load_default=None, metadata=PRICE_BOUND)
    max_price = fields.String(load_default=None, metadata=PRICE_BOUND)
    in_stock = fields.Boolean(load_default=None)
    sort = fields.String(
        load_default=None,
        validate=validate.OneOf(browse.SORTS),
        metadata={"description": "Default: relevance with q, else newest"},
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))
    facets = FacetNames(load_default=None)


class ItemQuerySchema(StrictSchema):
    locale = LocaleTag(load_default=None)
    currency = CurrencyCode(load_default=None)
    ship_to = Country(load_default=None)


class CategoryQuerySchema(StrictSchema):
    locale = LocaleTag(load_default=None)


class SellerRefSchema(ma.Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True)


class CatalogueImageSchema(ma.Schema):
    id = fields.String(required=True)
    position = fields.Integer(required=True)
    alt = fields.String(
        required=True, metadata={"description": "In the reader's locale, with the titles' fallback"}
    )
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    urls = fields.Nested(ImageUrlsSchema, required=True)


class CatalogueVariantSchema(ma.Schema):
    id = fields.String(
        required=True, metadata={"description": "`variant_id` of cart and order lines"}
    )
    options = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={
            "description": "Axis names and values in the reader's locale, with the titles' "
            "fallback ({} for a listing's only, default variant)"
        },
    )
    price = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    available = fields.Integer(
        required=True, metadata={"description": "Units that can be ordered now"}
    )


class CatalogueItemSchema(ma.Schema):
    id = fields.String(required=True)
    seller = fields.Nested(SellerRefSchema, required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    locale = fields.String(
        required=True, metadata={"description": "Locale the text is in, after fallback"}
    )
    translated = fields.Boolean(
        required=True, metadata={"description": "False: the listing's own language"}
    )
    price = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    list_price = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    in_stock = fields.Boolean(required=True)
    available = fields.Integer(
        required=True, metadata={"description": "Units that can be ordered now"}
    )
    category = fields.String(allow_none=True)
    origin_country = fields.String(required=True)
    hs_code = fields.String(required=True)
    ships_to = fields.List(fields.String(), required=True)
    weight_grams = fields.Integer(required=True)
    images = fields.List(
        fields.Nested(CatalogueImageSchema), required=True, metadata={"description": "In order"}
    )
    variants = fields.List(
        fields.Nested(CatalogueVariantSchema),
        required=True,
        metadata={"description": "What a buyer chooses from, in the seller's order (at least one)"},
    )


class LandedCostBlockSchema(ma.Schema):
    destination = fields.String(required=True)
    incoterm = fields.String(required=True, metadata={"enum": ["DAP", "DDP"]})
    available = fields.Boolean(required=True)
    shipping_known = fields.Boolean(
        required=True, metadata={"description": "False: shipping counted as zero"}
    )
    totals = fields.Nested(
        LandedCostTotalsSchema,
        allow_none=True,
        required=True,
        metadata={"description": "One unit, in the display currency"},
    )
    code = fields.String(
        allow_none=True, required=True, metadata={"description": "Why there is no estimate"}
    )
    detail = fields.String(allow_none=True, required=True)


_LANDED_COST_BLOCK = LandedCostBlockSchema()


class CatalogueDetailSchema(CatalogueItemSchema):
    landed_cost = fields.Nested(
        LandedCostBlockSchema, metadata={"description": "Only with ?ship_to="}
    )


class FacetValueSchema(ma.Schema):
    value = fields.String(allow_none=True, required=True)
    count = fields.Integer(required=True)


class SellerFacetSchema(FacetValueSchema):
    name = fields.String(required=True)


class PriceBandSchema(ma.Schema):
    min = fields.Nested(MoneyOutputSchema(formatted=True), required=True)
    max = fields.Nested(
        MoneyOutputSchema(formatted=True),
        allow_none=True,
        required=True,
        metadata={"description": "Exclusive; null: no upper end"},
    )
    count = fields.Integer(required=True)


class FacetsSchema(ma.Schema):
    category = fields.List(fields.Nested(FacetValueSchema))
    origin = fields.List(fields.Nested(FacetValueSchema))
    seller = fields.List(fields.Nested(SellerFacetSchema))
    price = fields.List(
        fields.Nested(PriceBandSchema), metadata={"description": "In the display currency"}
    )


class CataloguePageSchema(ma.Schema):
    items = fields.List(fields.Nested(CatalogueItemSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)
    locale = fields.String(required=True)
    currency = fields.String(allow_none=True, required=True)
    sort = fields.String(required=True)
    rates_stale = fields.Boolean(
        required=True,
        metadata={
            "description": "Some price on the page was converted with a rate older than MAX_RATE_AGE"
        },
    )
    facets = fields.Nested(
        FacetsSchema, metadata={"description": "Only with ?facets=: counts for the same filters"}
    )
    did_you_mean = fields.String(
        allow_none=True,
        metadata={
            "description": "With q: the query as searched when a word was matched to a close "
            "word of the catalogue instead (a typo); null when every word was found as typed"
        },
    )


class SuggestQuerySchema(StrictSchema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=100))
    locale = LocaleTag(load_default=None)
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=20))


class SuggestionSchema(ma.Schema):
    text = fields.String(required=True, metadata={"description": "A title in the reader's locale"})
    listing_id = fields.String(metadata={"description": "The listing with that title"})


class SuggestionsSchema(ma.Schema):
    suggestions = fields.List(fields.Nested(SuggestionSchema), required=True)


class CategoryNodeSchema(ma.Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)
    children = fields.List(fields.Nested(lambda: CategoryNodeSchema()), required=True)


class CategoryTreeSchema(ma.Schema):
    locale = fields.String(required=True)
    categories = fields.List(fields.Nested(CategoryNodeSchema), required=True)


def content_locales(explicit: str | None) -> tuple[str, ...]:
    """The reader's text locales, best first, any BCP 47 tags: ?locale=, else every
    Accept-Language choice by q-value (`kk, ru;q=0.8`: Kazakh, then Russian), else the profile's,
    else the interface locale. Text falls back through all of them before the seller's language.

    Unlike the interface locale these are not limited to the six translated interfaces: listings
    may be translated into any language.
    """
    if explicit:
        return (locales.canonical(explicit),)
    accepted = tuple(
        locales.canonical(tag)
        for tag, quality in sorted(request.accept_languages, key=lambda item: -item[1])
        if quality > 0 and tag != "*" and locales.is_tag(tag)
    )
    if accepted:
        return accepted
    user = context.current_user()
    if user is not None and user.locale:
        return (locales.canonical(user.locale),)
    return (current_locale(),)


def display_currency(explicit: str | None) -> str | None:
    """?currency= wins, then the user's preference; None shows each listing in its own."""
    if explicit:
        return explicit
    user = context.current_user()
    return user.currency if user is not None else None


def _bound(name: str, raw: str | None, currency: str | None) -> Any:
    if raw is None:
        return None
    if currency is None:
        raise browse.CurrencyRequired(errors={"currency": [browse.CurrencyRequired.default_detail]})
    try:
        return parse_amount(raw, currency)
    except DomainError as exc:
        raise Invalid(errors={name: [exc.detail]}) from None


def _cached(payload: dict[str, Any], content_language: str) -> Response:
    """JSON with a strong ETag of its bytes; a matching If-None-Match gets a bodiless 304."""
    body = orjson.dumps(payload)
    tag = hashlib.blake2b(body, digest_size=16).hexdigest()
    response = Response(body, mimetype="application/json")
    response.set_etag(tag)
    response.headers["Content-Language"] = content_language
    response.vary.update(("Accept-Language", "Authorization"))
    if context.bearer_token():
        response.cache_control.private = True
        response.cache_control.no_cache = True
    else:
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
    response.make_conditional(request)
    return response


@functools.lru_cache(maxsize=65536)
def _money(money: Money, locale: str) -> dict[str, str]:
    """The API shape of an amount with `formatted`; CLDR formatting is the costly part of a page."""
    return money_to_api(money, formatted=True, locale=locale)


def _item_api(item: browse.CatalogueItem, locale: str, prefix: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "seller": item.seller,
        "title": item.title,
        "description": item.description,
        "locale": item.locale,
        "translated": item.translated,
        "price": _money(item.price, locale),
        "list_price": _money(item.list_price, locale),
        "in_stock": item.in_stock,
        "available": item.stock,
        "category": item.category,
        "origin_country": item.origin_country,
        "hs_code": item.hs_code,
        "ships_to": item.ships_to,
        "weight_grams": item.weight_grams,
        "images": [
            {
                "id": image.id,
                "position": image.position,
                "alt": image.alt,
                "width": image.width,
                "height": image.height,
                "urls": urls(prefix, image.thumb, image.medium, image.large),
            }
            for image in item.images
        ],
        "variants": [
            {
                "id": variant.id,
                "options": variant.options,
                "price": _money(variant.price, locale),
                "available": variant.available,
            }
            for variant in item.variants
        ],
    }


@blp.route("/catalogue", methods=["GET"])
@blp.arguments(CatalogueQuerySchema(), location="query")
@blp.response(200, CataloguePageSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
@raises(CurrencyRequired)
@context.without_transaction
def catalogue(query: dict[str, Any]) -> Response:
    """Published listings: filtered, searched, sorted, in the reader's language and currency."""
    currency = display_currency(query["currency"])
    locale, *fallbacks = content_locales(query["locale"])
    wanted = query.pop("facets") or ()
    request_query = browse.CatalogueQuery(
        **{
            **query,
            "locale": locale,
            "fallbacks": tuple(fallbacks),
            "currency": currency,
            "min_price": _bound("min_price", query["min_price"], currency),
            "max_price": _bound("max_price", query["max_price"], currency),
        }
    )
    session = context.db()
    rates = listings.current_rates()
    page = browse.browse(
        session, request_query, rates, max_rate_age=context.settings()["MAX_RATE_AGE"]
    )
    ui, prefix = current_locale(), media_prefix()
    payload: dict[str, Any] = {
        "items": [_item_api(item, ui, prefix) for item in page.items],
        "next_cursor": page.next_cursor,
        "locale": page.locale,
        "currency": page.currency,
        "sort": page.sort,
        "rates_stale": page.rates_stale,
        **({} if request_query.q is None else {"did_you_mean": page.did_you_mean}),
    }
    if wanted:
        payload["facets"] = _facets_api(
            facets.facet_counts(session, request_query, rates, wanted), ui
        )
    return _cached(payload, page.locale)


@blp.route("/catalogue/suggest", methods=["GET"])
@blp.arguments(SuggestQuerySchema, location="query")
@blp.response(200, SuggestionsSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
@context.without_transaction
def catalogue_suggest(query: dict[str, Any]) -> Response:
    """Type-ahead: published titles in the reader's locale with a word starting with q."""
    locale = content_locales(query["locale"])[0]
    found = suggest.suggest(context.db(), query["q"], locale, query["limit"])
    return _cached({"suggestions": [asdict(s) for s in found]}, locale)


def _facets_api(found: dict[str, list[Any]], locale: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, values in found.items():
        if name == "price":
            out[name] = [
                {
                    "min": _money(band.low, locale),
                    "max": None if band.high is None else _money(band.high, locale),
                    "count": band.count,
                }
                for band in values
            ]
        elif name == "seller":
            out[name] = [{"value": v.value, "name": v.name, "count": v.count} for v in values]
        else:
            out[name] = [{"value": v.value, "count": v.count} for v in values]
    return out


@blp.route("/catalogue/<listing_id>", methods=["GET"])
@blp.arguments(ItemQuerySchema(), location="query")
@blp.response(200, CatalogueDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
@context.without_transaction
def catalogue_item(query: dict[str, Any], listing_id: str) -> Response:
    """One published listing as buyers see it."""
    locale, *fallbacks = content_locales(query["locale"])
    item, estimate = pricing.catalogue_item(
        context.db(),
        listing_id,
        locale=locale,
        fallbacks=fallbacks,
        currency=display_currency(query["currency"]),
        rates=listings.current_rates(),
        ship_to=query["ship_to"],
        on=utcnow().date(),
    )
    data = _item_api(item, current_locale(), media_prefix())
    if estimate is not None:
        data["landed_cost"] = _landed_cost_api(query["ship_to"], estimate)
    return _cached(data, item.locale)


def _landed_cost_api(destination: str, estimate: BasketQuote | DomainError) -> dict[str, Any]:
    """The one-unit quote, or why there is none, as LandedCostBlockSchema shows it."""
    if isinstance(estimate, DomainError):
        block = {
            "incoterm": Incoterm.DDP,
            "available": False,
            "shipping_known": False,
            "totals": None,
            "code": estimate.error_code,
            "detail": estimate.detail,
        }
    else:
        block = {
            "incoterm": estimate.incoterm,
            "available": True,
            "shipping_known": estimate.shipping_known,
            "totals": estimate.totals,
            "code": None,
            "detail": None,
        }
    return _LANDED_COST_BLOCK.dump({"destination": destination, **block})


@blp.route("/categories", methods=["GET"])
@blp.arguments(CategoryQuerySchema, location="query")
@blp.response(200, CategoryTreeSchema)
def category_tree(query: dict[str, Any]) -> Response:
    """The category tree, named in the requested interface locale."""
    locale = current_locale()
    nodes = categories.tree(context.db(), locale)
    return _cached({"locale": locale, "categories": [asdict(n) for n in nodes]}, locale)
