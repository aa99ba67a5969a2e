"""Stored exchange-rate sets, kept with their history: an order points at the set it used."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, StrEnumColumn, created_at, currency_code, enum_check, uuid_pk


class SourceKind(enum.StrEnum):
    """Where a rate came from: the ECB's published file, an operator, or the demo loader."""

    ECB = "ecb"
    OPERATOR = "operator"
    DEMO = "demo"


class RateSet(Base):
    """A complete snapshot of every source's latest rates (the newest set is current).

    Each rate keeps its own date and source: a set made by an ECB import carries the operator's
    rates over, and the other way round. A currency may have one rate per source; which one is in
    force is decided when the set is read (services.table_of).
    """

    __tablename__ = "rate_sets"
    __table_args__ = (CheckConstraint(enum_check("source", SourceKind), name="source"),)

    id: Mapped[uuid_pk]
    # Storage order, immune to clock steps: the current set is the one with the highest seq.
    seq: Mapped[int] = mapped_column(unique=True)
    base: Mapped[currency_code]
    as_of: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[SourceKind] = mapped_column(StrEnumColumn(SourceKind, 16))
    # The file name or URL imported, or who entered the rates: for the audit trail.
    origin: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[created_at]

    rates: Mapped[list[Rate]] = relationship(
        back_populates="rate_set",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="(Rate.currency, Rate.source)",
    )


class Rate(Base):
    """Units of `currency` per one unit of the set's base, as one source published it."""

    __tablename__ = "rates"
    __table_args__ = (
        UniqueConstraint("rate_set_id", "currency", "source"),
        CheckConstraint(enum_check("source", SourceKind), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    rate_set_id: Mapped[str] = mapped_column(ForeignKey("rate_sets.id", ondelete="CASCADE"))
    currency: Mapped[currency_code]
    rate: Mapped[Decimal]
    as_of: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[SourceKind] = mapped_column(StrEnumColumn(SourceKind, 16))

    rate_set: Mapped[RateSet] = relationship(back_populates="rates")
