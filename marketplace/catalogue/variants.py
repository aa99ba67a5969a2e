"""A listing's variants: the set a seller replaces at once, and how a buyer's choice is resolved.

A listing's option axes (`size`, `colour`) are named in its language; each offered variant gives
one value for every axis, and no two give the same combination. A listing without axes offers
one variant, its default (`options` {}). A variant that order lines refer to is never deleted:
replacing the set marks it removed, so what was sold keeps its SKU, options and history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.accounts.models import User
from marketplace.catalogue import services
from marketplace.catalogue.models import Listing, ListingVariant
from marketplace.errors import Invalid
from marketplace.i18n import _

MAX_VARIANTS = 100
MAX_AXES = 5


class VariantsInvalid(Invalid):
    code = "variants_invalid"
    default_detail = _("Some variants are invalid; nothing was changed.")


def list_variants(session: Session, user: User, listing_id: str) -> list[ListingVariant]:
    """The offered variants of a listing of the user's sellers, in order."""
    return _offered(services.get_own_listing(session, user, listing_id))


def _offered(listing: Listing) -> list[ListingVariant]:
    """`listing.offered`, each variant holding the listing it came with: its `price` is in the
    listing's currency, read then without a query."""
    for variant in listing.variants:
        set_committed_value(variant, "listing", listing)
    return listing.offered


def replace_variants(
    session: Session,
    user: User,
    listing_id: str,
    entries: Sequence[Mapping[str, Any]],
    *,
    hs_check: services.HsCheck,
    now: dt.datetime,
) -> list[ListingVariant]:
    """Make the listing offer exactly `entries`: those naming an id (or the SKU of one of the
    listing's variants) update it, the others are new, and offered variants left out are removed
    (deleted, or only marked removed when orders refer to them). All or nothing: 422 naming
    every bad entry, 409 `sku_taken` for a SKU another listing of the seller uses."""
    listing = services.get_own_listing(session, user, listing_id)
    by_id = {variant.id: variant for variant in listing.variants}
    by_sku = {variant.sku: variant for variant in listing.variants}
    cleaned = _clean(session, listing, entries, by_id, hs_check)
    targets = [by_id.get(entry.get("id") or "") or by_sku.get(entry["sku"]) for entry in cleaned]
    _require_free_skus(session, listing, [entry["sku"] for entry in cleaned], targets)
    kept = {variant.id for variant in targets if variant is not None}
    for variant in listing.offered:
        if variant.id not in kept:
            variant.removed_at = now  # deleted below when nothing refers to it
    for position, (entry, target) in enumerate(zip(cleaned, targets, strict=True)):
        variant = target or ListingVariant(seller_id=listing.seller_id)
        if target is None:
            listing.variants.append(variant)
        variant.sku, variant.options, variant.position = entry["sku"], entry["options"], position
        variant.stock = entry["stock"]
        variant.price_minor = entry.get("price_minor")
        variant.weight_grams = entry.get("weight_grams")
        variant.hs_code = entry.get("hs_code")
        variant.low_stock_threshold = entry.get("low_stock_threshold")
        variant.removed_at = None
    services.flush_unique(session)
    _delete_unreferenced(session, listing)
    return _offered(listing)


def _clean(
    session: Session,
    listing: Listing,
    entries: Sequence[Mapping[str, Any]],
    by_id: Mapping[str, ListingVariant],
    hs_check: services.HsCheck,
) -> list[dict[str, Any]]:
    """The entries normalized, or VariantsInvalid naming every problem (`variants.N.field`)."""
    errors: dict[str, list[Any]] = {}
    codes: list[str] = []

    def fail(path: str, message: Any, *, code: str) -> None:
        errors.setdefault(path, []).append(message)
        codes.append(code)

    if not entries:
        fail("variants", _("A listing offers at least one variant."), code="variants_empty")
    if len(entries) > MAX_VARIANTS:
        message = _("A listing offers at most %(limit)s variants.", limit=MAX_VARIANTS)
        raise VariantsInvalid(code="too_many_variants", errors={"variants": [message]})
    axes = listing.axes
    seen_ids: set[str] = set()
    seen_skus: set[str] = set()
    seen_options: set[tuple[tuple[str, str], ...]] = set()
    cleaned: list[dict[str, Any]] = []
    for index, raw in enumerate(entries):
        entry = dict(raw)
        at = f"variants.{index}"
        variant_id = entry.get("id")
        if variant_id is not None:
            if variant_id not in by_id:
                fail(
                    f"{at}.id",
                    _("This listing has no variant with this id."),
                    code="variant_unknown",
                )
            elif variant_id in seen_ids:
                fail(
                    f"{at}.id", _("This variant is already in the list."), code="variant_duplicate"
                )
            seen_ids.add(variant_id)
        if entry["sku"] in seen_skus:
            fail(f"{at}.sku", _("Another variant in the list has this SKU."), code="sku_duplicate")
        seen_skus.add(entry["sku"])
        options = {str(k): v for k, v in entry["options"].items()}
        unknown = sorted(set(options) - set(axes))
        missing = [axis for axis in axes if axis not in options]
        if unknown:
            fail(
                f"{at}.options",
                _(
                    "Unknown option axes: %(axes)s. The listing's axes are set by its option_axes.",
                    axes=", ".join(unknown),
                ),
                code="variant_axis_unknown",
            )
        if missing:
            fail(
                f"{at}.options",
                _("A value is missing for: %(axes)s.", axes=", ".join(missing)),
                code="variant_axis_missing",
            )
        combination = tuple((axis, options.get(axis, "")) for axis in axes)
        if not unknown and not missing and combination in seen_options:
            fail(
                f"{at}.options",
                _("Another variant in the list has the same options."),
                code="variant_options_duplicate",
            )
        seen_options.add(combination)
        entry["options"] = {axis: options[axis] for axis in axes if axis in options}
        if entry.get("hs_code") is not None:
            try:
                entry["hs_code"] = hs_check(session, entry["hs_code"])
            except Invalid as exc:
                fail(f"{at}.hs_code", exc.detail, code=exc.error_code)
        price = entry.pop("price", None)
        if price is not None:
            if price.currency != listing.currency:
                fail(
                    f"{at}.price",
                    _(
                        "A variant is priced in its listing's currency, %(currency)s.",
                        currency=listing.currency,
                    ),
                    code="variant_currency_mismatch",
                )
            entry["price_minor"] = price.minor
        cleaned.append(entry)
    if errors:
        raise VariantsInvalid(code=codes[0], errors=errors)
    return cleaned


def _require_free_skus(
    session: Session,
    listing: Listing,
    skus: Sequence[str],
    targets: Sequence[ListingVariant | None],
) -> None:
    """SKUs are unique per seller: one held by a variant of another listing is a 409."""
    own = {variant.id for variant in listing.variants}
    taken = {
        sku
        for sku, variant_id in session.execute(
            select(ListingVariant.sku, ListingVariant.id).where(
                ListingVariant.seller_id == listing.seller_id, ListingVariant.sku.in_(skus)
            )
        )
        if variant_id not in own
    }
    # Two variants of this listing swapping SKUs would collide on the way: refuse it plainly.
    for sku, target in zip(skus, targets, strict=True):
        holder = next((v for v in listing.variants if v.sku == sku), None)
        if holder is not None and target is not None and holder is not target:
            taken.add(sku)
    if taken:
        message = services.SkuTaken.default_detail
        raise services.SkuTaken(
            errors={
                f"variants.{index}.sku": [message] for index, sku in enumerate(skus) if sku in taken
            }
        )


def _delete_unreferenced(session: Session, listing: Listing) -> None:
    """Delete removed variants no order line refers to (the database's RESTRICT decides)."""
    for variant in [v for v in listing.variants if v.removed_at is not None]:
        try:
            with session.begin_nested():
                session.delete(variant)
                session.flush()
        except IntegrityError:
            session.expire(variant)


def resolve(listing: Listing, variant_id: str | None) -> ListingVariant | None:
    """The variant a buyer chose: the one named (if the listing offers it), or the listing's only
    one when none is named; None when the choice is missing or unknown."""
    offered = listing.offered
    if variant_id is None:
        return offered[0] if len(offered) == 1 else None
    return next((variant for variant in offered if variant.id == variant_id), None)
