"""Listings, their translations and destinations, and the category tree.

Prices are integer minor units in the seller's currency; `price_norm` is the same price in the
rate table's base currency (scaled by NORM_SCALE, an integer used only to sort and never shown)
so that a catalogue in any display currency can be ordered by an index.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, StrEnumColumn, created_at, enum_check, utcnow, uuid_pk
from marketplace.money import Money, MoneyColumn


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Category(Base):
    """A node of the category tree; names are localized in the six API locales (a data file)."""

    __tablename__ = "categories"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    parent_slug: Mapped[str | None] = mapped_column(
        ForeignKey("categories.slug", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    names: Mapped[dict[str, Any]] = mapped_column(JSON)


class Listing(Base):
    """A good a seller offers, in the seller's language and currency."""

    __tablename__ = "listings"
    __table_args__ = (
        UniqueConstraint("seller_id", "sku"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("weight_grams > 0", name="weight_positive"),
        CheckConstraint(enum_check("status", ListingStatus), name="status"),
        # The public catalogue only ever reads published listings: every index leads with status.
        Index("ix_listings_status_created", "status", "created_at", "id"),
        Index("ix_listings_status_price_norm", "status", "price_norm", "id"),
        Index("ix_listings_status_currency_price", "status", "currency", "price_minor"),
        Index("ix_listings_category_status", "category", "status"),
        Index("ix_listings_seller_status", "seller_id", "status"),
        # Facet counts by origin read this index alone, as category and seller read theirs.
        Index("ix_listings_status_origin", "status", "origin_country"),
    )

    id: Mapped[uuid_pk]
    seller_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    sku: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(35))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(ForeignKey("categories.slug", ondelete="RESTRICT"))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # Base-currency price x NORM_SCALE for sorting across currencies; refreshed when rates change.
    price_norm: Mapped[int | None] = mapped_column(BigInteger)
    # Stock before variants (migration 0160): no longer read or written, its variants hold it;
    # kept because dropping it would rebuild this table on SQLite (see that migration).
    legacy_stock: Mapped[int] = mapped_column("stock", Integer, default=0)
    # The option axes its variants are told apart by, in the listing's language (["size",
    # "colour"]); None or []: the listing has only its default variant.
    option_axes: Mapped[list[str] | None] = mapped_column(JSON)
    # The seller wants to hear when a variant's stock falls to this or below (None: never).
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    weight_grams: Mapped[int] = mapped_column(Integer)
    hs_code: Mapped[str] = mapped_column(String(10))
    origin_country: Mapped[str] = mapped_column(String(2), index=True)
    ships_everywhere: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[ListingStatus] = mapped_column(
        StrEnumColumn(ListingStatus, 16), default=ListingStatus.DRAFT
    )
    # Case- and accent-folded text of the listing and all its translations: what `q` searches.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    translations: Mapped[list[ListingTranslation]] = relationship(
        cascade="all, delete-orphan", lazy="raise", order_by="ListingTranslation.locale"
    )
    destinations: Mapped[list[ListingDestination]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ListingDestination.country"
    )
    # Every variant, removed ones included (order lines keep pointing at them): see `offered`.
    variants: Mapped[list[ListingVariant]] = relationship(
        back_populates="listing",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="ListingVariant.position",
    )

    price = MoneyColumn("price_minor")

    @property
    def axes(self) -> list[str]:
        return list(self.option_axes or [])

    @property
    def offered(self) -> list[ListingVariant]:
        """The variants buyers can choose from (not removed), in the seller's order."""
        return [variant for variant in self.variants if variant.removed_at is None]

    @property
    def stock(self) -> int:
        """Units of all its offered variants that can be ordered now."""
        return sum(variant.stock for variant in self.offered)

    @stock.setter
    def stock(self, units: int) -> None:
        """The stock of a listing with one variant: its default variant, made here if needed."""
        offered = self.offered
        if not offered:
            self.variants.append(ListingVariant(options={}, position=0, stock=units))
        elif len(offered) == 1:
            offered[0].stock = units
        else:
            raise ValueError(f"listing {self.id} has several variants: set each one's stock")

    @property
    def available(self) -> int:
        return self.stock

    @property
    def low_stock(self) -> bool:
        return any(variant.is_low(self) for variant in self.offered)

    @property
    def ships_to(self) -> list[str]:
        return ["*"] if self.ships_everywhere else [row.country for row in self.destinations]


class ListingVariant(Base):
    """One buyable form of a listing (size M in red): its own SKU and stock, and optionally its
    own price, weight and HS code (None: the listing's).

    Every listing has at least one; a listing without option axes has exactly one, its default
    variant (`options` {}). A variant orders refer to is never deleted, only marked removed, so
    order lines, declarations and documents keep what was sold.
    """

    __tablename__ = "listing_variants"
    __table_args__ = (
        # Variant SKUs are unique per seller, as listing SKUs are (removed variants keep theirs).
        UniqueConstraint("seller_id", "sku"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("weight_grams > 0", name="weight_positive"),
        Index("ix_listing_variants_listing_position", "listing_id", "position"),
    )

    id: Mapped[uuid_pk]
    listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    seller_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    sku: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # {axis: value} in the listing's language, one value for each of the listing's axes.
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # In the listing's currency; None: the listing's price.
    price_minor: Mapped[int | None] = mapped_column(BigInteger)
    # What can be ordered now: placing an order takes its units here, expiry or cancelling
    # gives them back, so reservations are already subtracted.
    stock: Mapped[int] = mapped_column(Integer, default=0)
    # None: the listing's threshold.
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    hs_code: Mapped[str | None] = mapped_column(String(10))
    removed_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]

    listing: Mapped[Listing] = relationship(back_populates="variants", lazy="raise")

    @property
    def price(self) -> Money | None:
        """Its own price in the listing's currency (None: the listing's); the listing must have
        been loaded with it (see `Listing.offered_with_listing`)."""
        if self.price_minor is None:
            return None
        return Money.from_minor(self.price_minor, self.listing.currency)

    def effective(self, listing: Listing) -> tuple[int, int, str, int | None]:
        """(price minor units, weight in grams, HS code, low-stock threshold), the listing's
        where the variant has none of its own."""
        return (
            listing.price_minor if self.price_minor is None else self.price_minor,
            self.weight_grams or listing.weight_grams,
            self.hs_code or listing.hs_code,
            listing.low_stock_threshold
            if self.low_stock_threshold is None
            else self.low_stock_threshold,
        )

    def is_low(self, listing: Listing) -> bool:
        threshold = self.effective(listing)[3]
        return threshold is not None and self.stock <= threshold


@event.listens_for(ListingVariant, "before_insert")
def _own_seller_and_sku(_mapper: object, _connection: object, variant: ListingVariant) -> None:
    """A default variant made with its listing takes the listing's seller and SKU."""
    listing = variant.__dict__.get("listing")
    if listing is not None:
        variant.seller_id = variant.seller_id or listing.seller_id
        variant.sku = variant.sku or listing.sku


class ListingTranslation(Base):
    """The title and description of a listing in one BCP 47 locale other than its own."""

    __tablename__ = "listing_translations"

    listing_id: Mapped[str] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The option axes and values in this locale: {axis: {"name": ..., "values": {value: ...}}}.
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ListingDestination(Base):
    """A country a listing ships to (unless it ships everywhere): `?ship_to=` is an index probe."""

    __tablename__ = "listing_destinations"

    listing_id: Mapped[str] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class ListingImage(Base):
    """One picture of a listing's gallery: three derived WebP files named by their SHA-256.

    The upload itself is not kept: only what was re-encoded from its pixels (no metadata).
    """

    __tablename__ = "listing_images"
    __table_args__ = (Index("ix_listing_images_listing_position", "listing_id", "position"),)

    id: Mapped[uuid_pk]
    listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    thumb: Mapped[str] = mapped_column(String(80))
    medium: Mapped[str] = mapped_column(String(80))
    large: Mapped[str] = mapped_column(String(80))
    # Alternative text per BCP 47 locale ({"zh-Hans": "...", "ru": "..."}).
    alt: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[created_at]

    @property
    def files(self) -> dict[str, str]:
        """The stored names of its three sizes."""
        return {"thumb": self.thumb, "medium": self.medium, "large": self.large}


class PriceBasis(Base):
    """Which rate table `listings.price_norm` was computed with (one row): a new table refreshes it."""

    __tablename__ = "catalogue_price_basis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rates_key: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# Database objects that migrations create by hand, not expressible as models (none today: the
# search index is ordinary tables, `marketplace.catalogue.search.models`).
UNMANAGED_OBJECTS: tuple[str, ...] = ()
