"""Carts: a buyer's basket kept in the database, priced anew each time it is read.

A cart's id is its capability: whoever holds it may read and change it, unless it is bound to a
user (a signed-in caller's cart), then only that user may.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.customs.landed_cost import Incoterm
from marketplace.db import Base, StrEnumColumn, created_at, enum_check, new_id, utcnow


def _cart_id() -> str:
    """Unguessable (192 random bits): the id alone grants access to a guest's cart."""
    return secrets.token_urlsafe(24)


class Cart(Base):
    __tablename__ = "carts"
    __table_args__ = (
        CheckConstraint(enum_check("incoterm", Incoterm), name="incoterm"),
        Index("ix_carts_updated_at", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_cart_id)
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    currency: Mapped[str | None] = mapped_column(String(3))
    locale: Mapped[str | None] = mapped_column(String(35))
    incoterm: Mapped[Incoterm] = mapped_column(StrEnumColumn(Incoterm, 3), default=Incoterm.DDP)
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    email: Mapped[str | None] = mapped_column(String(254))
    broker_id: Mapped[str | None] = mapped_column(String(36))
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[CartLine]] = relationship(
        back_populates="cart",
        cascade="all, delete-orphan",
        order_by="CartLine.position",
        lazy="selectin",
    )


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[str] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    # The variant chosen: None only for lines made before variants (the listing's one variant).
    variant_id: Mapped[str | None] = mapped_column(
        ForeignKey("listing_variants.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)

    cart: Mapped[Cart] = relationship(back_populates="lines")
