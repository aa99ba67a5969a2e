"""Customs reference data stored in the database."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base


class HsCode(Base):
    """One entry of the Harmonized System: a chapter (2 digits), heading (4) or subheading (6)."""

    __tablename__ = "hs_codes"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    parent: Mapped[str | None] = mapped_column(String(6))
    section: Mapped[str] = mapped_column(String(5))
    edition: Mapped[str] = mapped_column(String(10))
