"""Customs reference data stored in the database."""

from __future__ import annotations

from sqlalchemy import Integer, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, created_at, uuid_pk


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
    loaded only when asked for. `shipment_id` has no foreign key yet: shipments arrive with orders.
    """

    __tablename__ = "customs_documents"
    __table_args__ = (UniqueConstraint("shipment_id", "kind", "language", "version"),)

    id: Mapped[uuid_pk]
    shipment_id: Mapped[str] = mapped_column(String(36))  # the unique key below indexes it
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

