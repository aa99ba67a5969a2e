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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, StrEnumColumn, created_at, utcnow, uuid_pk
from marketplace.money import MoneyColumn


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
        CheckConstraint("status IN ('draft', 'published', 'archived')", name="status"),
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
    # What can be ordered now: placing an order takes its units here, expiry or cancelling
    # gives them back, so reservations are already subtracted.
    stock: Mapped[int] = mapped_column(Integer, default=0)
    # The seller wants to hear when `stock` falls to this or below (None: never).
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

    price = MoneyColumn("price_minor")

    @property
    def available(self) -> int:
        return self.stock

    @property
    def low_stock(self) -> bool:
        return self.low_stock_threshold is not None and self.stock <= self.low_stock_threshold

    @property
    def ships_to(self) -> list[str]:
        return ["*"] if self.ships_everywhere else [row.country for row in self.destinations]


class ListingTranslation(Base):
    """The title and description of a listing in one BCP 47 locale other than its own."""

    __tablename__ = "listing_translations"

    listing_id: Mapped[str] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
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


class PriceBasis(Base):
    """Which rate table `listings.price_norm` was computed with (one row): a new table refreshes it."""

    __tablename__ = "catalogue_price_basis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rates_key: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# Created by migration 0030_catalogue, not expressible as models: Alembic's comparison skips them.
UNMANAGED_OBJECTS = ("listings_fts", "ix_listings_search_trgm")
