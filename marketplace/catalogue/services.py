"""Seller-side listing rules: create, change, archive, translate; who may touch which listing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import pagination
from marketplace.accounts.models import OrganisationKind, User
from marketplace.accounts.services import organisation_ids, require_member
from marketplace.catalogue import categories, locales, pricing, search
from marketplace.catalogue.models import (
    Listing,
    ListingDestination,
    ListingStatus,
    ListingTranslation,
)
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.i18n import _
from marketplace.money import Money, RateTable

EVERYWHERE = "*"


class SkuTaken(Conflict):
    code = "sku_taken"
    default_detail = _("This seller already has a listing with this SKU.")


class TranslationIsOriginal(Invalid):
    code = "translation_is_original"
    default_detail = _("This is the listing's own language: change the listing itself instead.")


class InvalidLanguage(Invalid):
    code = "language_invalid"
    default_detail = _("Not a valid language tag.")


class AxesInUse(Conflict):
    code = "variant_axes_in_use"
    default_detail = _(
        "The listing's variants use other option axes: replace its variants with ones that "
        "give a value for each new axis instead."
    )


class HasVariants(Conflict):
    code = "listing_has_variants"
    default_detail = _("This listing has several variants: set each variant's stock instead.")


@dataclass(frozen=True)
class ListingPage:
    items: list[Listing]
    next_cursor: str | None


class HsCheck(Protocol):
    """Customs' HS nomenclature check: the normalized code, or Invalid `hs_code_invalid`.

    Catalogue takes it as a parameter, so it never reads the nomenclature's tables itself.
    """

    def __call__(self, session: Session, raw: str) -> str: ...


def clean(session: Session, data: Mapping[str, Any], hs_check: HsCheck) -> dict[str, Any]:
    """Validate and normalize listing fields (any subset); raises Invalid naming the fields."""
    out: dict[str, Any] = {}
    errors: dict[str, list[Any]] = {}
    for name, value in data.items():
        try:
            if name == "hs_code":
                out[name] = hs_check(session, value)
            elif name == "category":
                out[name] = categories.require(session, value)
            elif name == "language":
                if not locales.is_tag(value):
                    raise InvalidLanguage()
                out[name] = locales.canonical(value)
            elif name == "ships_to":
                out[name] = _ships_to(value)
            elif name == "price":
                money: Money = value
                out["price_minor"], out["currency"] = money.minor, money.currency
            else:
                out[name] = value
        except Invalid as exc:
            errors[name] = list(exc.errors.get(name) or [exc.detail])
    if errors:
        raise Invalid(errors=errors)
    return out


def _ships_to(value: Iterable[str]) -> list[str]:
    countries = sorted(set(value))
    if EVERYWHERE in countries and len(countries) > 1:
        message = _('Either ["*"] (everywhere) or a list of countries, not both.')
        raise Invalid(message, errors={"ships_to": [message]})
    if not countries:
        message = _('Name at least one country, or ["*"] for everywhere.')
        raise Invalid(message, errors={"ships_to": [message]})
    return countries


def _apply(listing: Listing, values: Mapping[str, Any], rates: RateTable | None) -> None:
    for name, value in values.items():
        if name == "stock":
            if len(listing.offered) > 1:
                raise HasVariants(errors={"stock": [HasVariants.default_detail]})
            listing.stock = value
        elif name == "option_axes":
            _check_axes(listing, value)
            listing.option_axes = list(value)
        elif name == "ships_to":
            listing.ships_everywhere = value == [EVERYWHERE]
            listing.destinations = (
                [] if listing.ships_everywhere else [ListingDestination(country=c) for c in value]
            )
        else:
            setattr(listing, name, value)
    if "price_minor" in values:
        listing.price_norm = pricing.normalized(listing.price_minor, listing.currency, rates)


def _check_axes(listing: Listing, axes: list[str]) -> None:
    """New option axes must fit the offered variants (a lone default variant fits any)."""
    offered = listing.offered
    if len(offered) == 1 and not offered[0].options:
        return
    if any(set(variant.options) != set(axes) for variant in offered):
        raise AxesInUse(errors={"option_axes": [AxesInUse.default_detail]})


def flush_unique(session: Session) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise SkuTaken(errors={"sku": [SkuTaken.default_detail]}) from exc


def create_listing(
    session: Session,
    user: User,
    data: Mapping[str, Any],
    rates: RateTable | None,
    *,
    hs_check: HsCheck,
) -> Listing:
    """A new listing of a seller the user belongs to."""
    require_member(session, user, data["seller_id"], OrganisationKind.SELLER)
    values = clean(session, {k: v for k, v in data.items() if k != "seller_id"}, hs_check)
    if session.scalar(
        select(Listing.id).where(
            Listing.seller_id == data["seller_id"], Listing.sku == values["sku"]
        )
    ):
        raise SkuTaken(errors={"sku": [SkuTaken.default_detail]})
    listing = Listing(seller_id=data["seller_id"], destinations=[])
    _apply(listing, values, rates)
    if not listing.variants:
        listing.stock = 0  # every listing offers at least its default variant
    session.add(listing)
    flush_unique(session)
    search.reindex(session, listing, new=True)
    return listing


def get_own_listing(session: Session, user: User, listing_id: str) -> Listing:
    """A listing of one of the user's sellers; any other listing does not exist for them."""
    listing = session.get(Listing, listing_id)
    if listing is None or listing.seller_id not in organisation_ids(
        session, user.id, OrganisationKind.SELLER
    ):
        raise NotFound()
    return listing


def list_own_listings(
    session: Session,
    user: User,
    *,
    seller_id: str | None,
    status: str | None,
    limit: int,
    after: str | None,
) -> ListingPage:
    """The user's sellers' listings, drafts and archived included, newest first."""
    if seller_id is not None:
        require_member(session, user, seller_id, OrganisationKind.SELLER)
        sellers = [seller_id]
    else:
        sellers = organisation_ids(session, user.id, OrganisationKind.SELLER)
    query = select(Listing).where(Listing.seller_id.in_(sellers))
    if status is not None:
        query = query.where(Listing.status == status)
    if after:
        moment, last_id = pagination.decode_moment(after, "own")
        query = query.where(
            (Listing.created_at < moment)
            | ((Listing.created_at == moment) & (Listing.id > last_id))
        )
    rows = list(
        session.scalars(query.order_by(Listing.created_at.desc(), Listing.id).limit(limit + 1))
    )
    items, next_cursor = pagination.page(
        rows, limit, lambda last: pagination.encode_moment("own", last.created_at, last.id)
    )
    return ListingPage(items, next_cursor)


def update_listing(
    session: Session,
    user: User,
    listing_id: str,
    changes: Mapping[str, Any],
    rates: RateTable | None,
    *,
    hs_check: HsCheck,
) -> Listing:
    listing = get_own_listing(session, user, listing_id)
    values = clean(session, changes, hs_check)
    if (
        "sku" in values
        and values["sku"] != listing.sku
        and session.scalar(
            select(Listing.id).where(
                Listing.seller_id == listing.seller_id, Listing.sku == values["sku"]
            )
        )
    ):
        raise SkuTaken(errors={"sku": [SkuTaken.default_detail]})
    if "sku" in values:
        # A listing's one variant that carries its SKU keeps carrying it.
        for variant in listing.offered:
            if len(listing.offered) == 1 and variant.sku == listing.sku:
                variant.sku = values["sku"]
    _apply(listing, values, rates)
    flush_unique(session)
    if {"title", "description", "language"} & set(values):
        search.reindex(session, listing)
    return listing


def remove_listing(session: Session, user: User, listing_id: str) -> bool:
    """Delete a listing nothing refers to; archive one that orders refer to. True if deleted.

    Whether anything refers to it is the database's answer: tables that point at listings
    (order lines) use a restricting foreign key, so the delete fails and the listing is archived.
    """
    listing = get_own_listing(session, user, listing_id)
    try:
        with session.begin_nested():
            session.delete(listing)
            session.flush()
        return True
    except IntegrityError:
        listing = get_own_listing(session, user, listing_id)
        listing.status = ListingStatus.ARCHIVED
        session.flush()
        return False


def list_translations(session: Session, user: User, listing_id: str) -> list[ListingTranslation]:
    listing = get_own_listing(session, user, listing_id)
    return list(
        session.scalars(
            select(ListingTranslation)
            .where(ListingTranslation.listing_id == listing.id)
            .order_by(ListingTranslation.locale)
        )
    )


def put_translation(
    session: Session,
    user: User,
    listing_id: str,
    locale: str,
    *,
    title: str,
    description: str,
    options: Mapping[str, Any] | None = None,
) -> ListingTranslation:
    """Create or replace the listing's text in one locale; `options` names its option axes and
    values there ({axis: {"name": ..., "values": {value: ...}}})."""
    listing = get_own_listing(session, user, listing_id)
    tag = _translation_locale(listing, locale)
    unknown = sorted(set(options or {}) - set(listing.axes))
    if unknown:
        message = _("Unknown option axes: %(axes)s.", axes=", ".join(unknown))
        raise Invalid(message, code="variant_axis_unknown", errors={"options": [message]})
    translation = session.get(ListingTranslation, (listing.id, tag))
    if translation is None:
        translation = ListingTranslation(listing_id=listing.id, locale=tag)
        session.add(translation)
    translation.title, translation.description = title, description
    translation.options = {
        axis: {"name": text.get("name"), "values": dict(text.get("values") or {})}
        for axis, text in (options or {}).items()
    } or None
    session.flush()
    search.reindex(session, listing)
    return translation


def delete_translation(session: Session, user: User, listing_id: str, locale: str) -> None:
    listing = get_own_listing(session, user, listing_id)
    tag = _translation_locale(listing, locale)
    deleted = session.execute(
        delete(ListingTranslation).where(
            ListingTranslation.listing_id == listing.id, ListingTranslation.locale == tag
        )
    )
    if not deleted.rowcount:  # type: ignore[attr-defined]
        raise NotFound()
    search.reindex(session, listing)


def _translation_locale(listing: Listing, raw: str) -> str:
    if not locales.is_tag(raw):
        raise InvalidLanguage(errors={"locale": [InvalidLanguage.default_detail]})
    tag = locales.canonical(raw)
    if tag == listing.language:
        raise TranslationIsOriginal(errors={"locale": [TranslationIsOriginal.default_detail]})
    return tag


def titles_in(session: Session, listing_ids: Iterable[str], language: str) -> dict[str, str]:
    """The listings' titles translated into `language` (or a regional form of it), by listing id.

    Customs documents describe goods in English: this gives them the sellers' own translations.
    """
    ids = sorted(set(listing_ids))
    if not ids:
        return {}
    found: dict[str, str] = {}
    for listing_id, title in session.execute(
        select(ListingTranslation.listing_id, ListingTranslation.title)
        .where(ListingTranslation.listing_id.in_(ids))
        .where(
            or_(
                ListingTranslation.locale == language,
                ListingTranslation.locale.like(f"{language}-%"),
            )
        )
        .order_by(ListingTranslation.listing_id, ListingTranslation.locale.desc())
    ):
        # The plain tag sorts last in descending order and so wins over a regional variant.
        found[listing_id] = title
    return found
