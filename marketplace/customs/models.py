"""Customs reference data stored in the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, country_code, created_at, utcnow, uuid_pk


class HsCode(Base):
    """One entry of the Harmonized System: a chapter (2 digits), heading (4) or subheading (6)."""

    __tablename__ = "hs_codes"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    parent: Mapped[str | None] = mapped_column(String(6))
    section: Mapped[str] = mapped_column(String(5))
    edition: Mapped[str] = mapped_column(String(10))


class CustomsDocument(Base):
    """One issued PDF of a shipment: immutable; a correction is a new row with the next version.

    The bytes live in the row (see the README, "Customs documents", for why not on disk) and are
    loaded only when asked for. A shipment with issued documents cannot be deleted (RESTRICT).
    """

    __tablename__ = "customs_documents"
    __table_args__ = (UniqueConstraint("shipment_id", "kind", "language", "version"),)

    id: Mapped[uuid_pk]
    # The unique key below indexes it.
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[created_at]


@event.listens_for(CustomsDocument, "before_update")
def _refuse_changes(_mapper: object, _connection: object, document: CustomsDocument) -> None:
    """An issued document is evidence for customs: it is never rewritten, only superseded."""
    raise RuntimeError(f"customs document {document.id} is immutable; issue a new version instead")


class CustomsCorrection(Base):
    """The seller's correction of one order line's customs data (HS code, English description).

    The order line keeps what was sold; the declaration reads the correction over it, and the
    documents issued after the correction are new versions beside the old ones.
    """

    __tablename__ = "customs_corrections"

    line_id: Mapped[str] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), primary_key=True
    )
    shipment_id: Mapped[str] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    hs_code: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(String(200))
    origin_country: Mapped[str | None] = mapped_column(String(2))
    corrected_by: Mapped[str] = mapped_column(String(36))
    corrected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CustomsRule(Base):
    """One destination's import rules for one validity period.

    The full record (thresholds, rates, regimes) is the JSON `body`, validated by
    `customs.rules.RuleSchema`; the columns beside it are what queries and people look for.
    `edited_by` is empty while the row is as shipped in the data files: the loader refreshes
    such rows and never overwrites a row an operator changed.
    """

    __tablename__ = "customs_rules"
    __table_args__ = (UniqueConstraint("destination", "valid_from"),)

    id: Mapped[uuid_pk]
    destination: Mapped[str] = mapped_column(String(8))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(500))
    checked_on: Mapped[dt.date] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    edited_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    countries: Mapped[list[CustomsRuleCountry]] = relationship(
        back_populates="rule", cascade="all, delete-orphan", order_by="CustomsRuleCountry.country"
    )


class CustomsRuleCountry(Base):
    """A country a rule covers (a customs union's rule covers each member)."""

    __tablename__ = "customs_rule_countries"

    rule_id: Mapped[str] = mapped_column(
        ForeignKey("customs_rules.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[country_code] = mapped_column(primary_key=True, index=True)

    rule: Mapped[CustomsRule] = relationship(back_populates="countries")
