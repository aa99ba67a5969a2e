"""Orders, their lines and per-seller shipments, the rates locked onto them, seller shipping
rates and stored idempotent responses.

Every amount is integer minor units beside its currency. An order's figures are in the order
currency; each line also keeps its unit price in the seller's currency, and each shipment its
goods and shipping in the seller's currency, so nothing has to be re-derived from moving rates.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.customs.declaration import ServiceClass
from marketplace.customs.landed_cost import Incoterm
from marketplace.db import Base, StrEnumColumn, created_at, enum_check, minor_units, utcnow, uuid_pk
from marketplace.money import MoneyColumn


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class ShipmentStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    READY = "ready"
    DISPATCHED = "dispatched"
    CANCELLED = "cancelled"


class ShippingRate(Base):
    """One destination of a seller's shipping price list: base plus per-kg, in the seller's currency.

    A row per country ("*" for everywhere else) makes "most specific wins" a two-key lookup;
    `position` remembers which row of the price list the country was given in.
    """

    __tablename__ = "shipping_rates"
    __table_args__ = (
        CheckConstraint("base_minor >= 0", name="base_not_negative"),
        CheckConstraint("per_kg_minor >= 0", name="per_kg_not_negative"),
        CheckConstraint(enum_check("service_class", ServiceClass), name="service_class"),
    )

    seller_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    base_minor: Mapped[minor_units]
    per_kg_minor: Mapped[minor_units]
    # How the rate sends parcels (customs.declaration.ServiceClass): it decides the customs form.
    service_class: Mapped[ServiceClass] = mapped_column(
        StrEnumColumn(ServiceClass, 16),
        default=ServiceClass.LETTER_POST,
        server_default="letter_post",
    )

    base = MoneyColumn("base_minor")
    per_kg = MoneyColumn("per_kg_minor")


class IdempotencyKey(Base):
    """A caller's Idempotency-Key with the request it was first used for and the response given.

    The unique (caller, key) is what makes concurrent duplicates safe: the second insert waits
    for the first transaction and then fails, and the stored response is replayed.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[uuid_pk]
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(enum_check("status", OrderStatus), name="status"),
        CheckConstraint(enum_check("incoterm", Incoterm), name="incoterm"),
        CheckConstraint("grand_total_minor >= 0", name="grand_total_not_negative"),
        # Keyset pagination of a buyer's orders, newest first; expiry sweeps by status and time.
        Index("ix_orders_buyer_created", "buyer_id", "created_at", "id"),
        Index("ix_orders_buyer_status_created", "buyer_id", "status", "created_at"),
        Index("ix_orders_status_expires", "status", "expires_at"),
    )

    id: Mapped[uuid_pk]
    number: Mapped[str] = mapped_column(String(20), unique=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(
        StrEnumColumn(OrderStatus, 24), default=OrderStatus.PENDING_PAYMENT
    )
    currency: Mapped[str] = mapped_column(String(3))
    incoterm: Mapped[Incoterm] = mapped_column(StrEnumColumn(Incoterm, 3))
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSON)
    ship_to_country: Mapped[str] = mapped_column(String(2))
    # The money package's rate set the prices were converted with (its rates are copied in `fx`).
    rate_set_id: Mapped[str | None] = mapped_column(String(64))
    goods_minor: Mapped[minor_units]
    shipping_minor: Mapped[minor_units]
    duties_minor: Mapped[minor_units]
    taxes_minor: Mapped[minor_units]
    grand_total_minor: Mapped[minor_units]
    expires_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    payment_reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderLine.position"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", lazy="raise", order_by="Shipment.position"
    )
    fx: Mapped[list[OrderFx]] = relationship(lazy="raise", order_by="OrderFx.position")

    goods = MoneyColumn("goods_minor")
    shipping = MoneyColumn("shipping_minor")
    duties = MoneyColumn("duties_minor")
    taxes = MoneyColumn("taxes_minor")
    grand_total = MoneyColumn("grand_total_minor")


class OrderFx(Base):
    """A rate copied from the rate set at checkout: the order's figures never move with the market."""

    __tablename__ = "order_fx"

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True
    )
    from_currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    to_currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    rate: Mapped[Decimal]
    as_of: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(64))


class Shipment(Base):
    """The part of an order one seller sends: it crosses from the seller's country to the buyer's."""

    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint(enum_check("status", ShipmentStatus), name="status"),
        CheckConstraint(enum_check("incoterm", Incoterm), name="incoterm"),
        CheckConstraint(enum_check("service_class", ServiceClass), name="service_class"),
        UniqueConstraint("order_id", "seller_id"),
        Index("ix_shipments_seller_created", "seller_id", "created_at", "id"),
        Index("ix_shipments_brokerage_created", "brokerage_id", "created_at", "id"),
    )

    id: Mapped[uuid_pk]
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    seller_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    brokerage_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    status: Mapped[ShipmentStatus] = mapped_column(
        StrEnumColumn(ShipmentStatus, 24), default=ShipmentStatus.AWAITING_PAYMENT
    )
    incoterm: Mapped[Incoterm] = mapped_column(StrEnumColumn(Incoterm, 3))
    from_country: Mapped[str] = mapped_column(String(2))
    to_country: Mapped[str] = mapped_column(String(2))
    weight_grams: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    goods_minor: Mapped[minor_units]
    shipping_minor: Mapped[minor_units]
    duties_minor: Mapped[minor_units]
    taxes_minor: Mapped[minor_units]
    # The part of duties and taxes the buyer pays at checkout (all under DDP; under DAP only what
    # the destination collects at sale, e.g. the EU's IOSS VAT); the rest is due on delivery.
    collected_minor: Mapped[minor_units]
    seller_currency: Mapped[str] = mapped_column(String(3))
    goods_seller_minor: Mapped[minor_units]
    shipping_seller_minor: Mapped[minor_units]
    de_minimis: Mapped[bool] = mapped_column(default=False)
    service_class: Mapped[ServiceClass] = mapped_column(
        StrEnumColumn(ServiceClass, 16),
        default=ServiceClass.LETTER_POST,
        server_default="letter_post",
    )
    # The landed-cost engine's own explanation of the duties and taxes (rates, thresholds, bases).
    landed_cost: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    dispatched_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]

    order: Mapped[Order] = relationship(back_populates="shipments", lazy="raise")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="shipment", lazy="raise", order_by="OrderLine.position"
    )

    goods = MoneyColumn("goods_minor")
    shipping = MoneyColumn("shipping_minor")
    duties = MoneyColumn("duties_minor")
    taxes = MoneyColumn("taxes_minor")
    collected = MoneyColumn("collected_minor")
    goods_seller = MoneyColumn("goods_seller_minor", "seller_currency")
    shipping_seller = MoneyColumn("shipping_seller_minor", "seller_currency")


class OrderLine(Base):
    """A listing bought, with what the customs declaration needs copied as it was at checkout."""

    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_order_lines_listing", "listing_id"),
    )

    id: Mapped[uuid_pk]
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"))
    # The variant bought (RESTRICT: a variant orders refer to is only ever marked removed).
    variant_id: Mapped[str | None] = mapped_column(
        ForeignKey("listing_variants.id", ondelete="RESTRICT"), index=True
    )
    sku: Mapped[str] = mapped_column(String(64))  # the variant's
    # The variant's options as the seller named them ({"size": "M"}), and as the buyer read them.
    options: Mapped[dict[str, str] | None] = mapped_column(JSON)
    buyer_options: Mapped[dict[str, str] | None] = mapped_column(JSON)
    title: Mapped[str] = mapped_column(String(200))
    # The title in the buyer's language at order time (the seller's own when untranslated).
    buyer_title: Mapped[str | None] = mapped_column(String(200))
    buyer_locale: Mapped[str | None] = mapped_column(String(35))
    language: Mapped[str] = mapped_column(String(35))
    hs_code: Mapped[str] = mapped_column(String(10))
    origin_country: Mapped[str] = mapped_column(String(2))
    weight_grams: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    seller_currency: Mapped[str] = mapped_column(String(3))
    unit_price_seller_minor: Mapped[minor_units]
    currency: Mapped[str] = mapped_column(String(3))
    unit_price_minor: Mapped[minor_units]
    total_minor: Mapped[minor_units]

    order: Mapped[Order] = relationship(back_populates="lines", lazy="raise")
    shipment: Mapped[Shipment] = relationship(back_populates="lines", lazy="raise")

    unit_price = MoneyColumn("unit_price_minor")
    unit_price_seller = MoneyColumn("unit_price_seller_minor", "seller_currency")
    total = MoneyColumn("total_minor")

    @property
    def buyer_text(self) -> str:
        """The title the buyer read (the seller's own where there was no translation)."""
        return self.buyer_title or self.title

    @property
    def buyer_text_locale(self) -> str:
        return self.buyer_locale or self.language

    @property
    def buyer_variant(self) -> dict[str, str]:
        """The options the buyer read (the seller's own where there was no translation)."""
        return dict(self.buyer_options or self.options or {})

    @property
    def seller_variant(self) -> dict[str, str]:
        return dict(self.options or {})
