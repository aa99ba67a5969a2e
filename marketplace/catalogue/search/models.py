"""The search index: postings per listing and token, the typo vocabulary, title prefixes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base

TOKEN_LENGTH = 64
# Type-ahead completes on the first KEY_LENGTH characters of what was typed.
KEY_LENGTH = 32
# Prefix ranges compare code points, whatever the database's default collation.
KEY_TYPE = String(KEY_LENGTH).with_variant(String(KEY_LENGTH, collation="C"), "postgresql")


class Posting(Base):
    """A token of a listing's text and how well it describes the listing (BM25F, x1000)."""

    __tablename__ = "search_postings"
    __table_args__ = (
        # A word's best listings first: ranking walks this index and stops (see query.py).
        Index("ix_search_postings_token_score", "token", "score", "listing_id"),
    )

    listing_id: Mapped[str] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)


class VocabularyEntry(Base):
    """A word of the index (as folded) under one of its deletion forms, with its index token."""

    __tablename__ = "search_vocabulary"

    variant: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    word: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)
    token: Mapped[str] = mapped_column(String(TOKEN_LENGTH), primary_key=True)


class TitleKey(Base):
    """A title in one locale under the folded text from one of its word starts: type-ahead.

    The title itself is read from the listing or its translation for the few rows shown.
    """

    __tablename__ = "search_title_keys"
    __table_args__ = (Index("ix_search_title_keys_listing_id", "listing_id"),)

    locale: Mapped[str] = mapped_column(String(35), primary_key=True)
    key: Mapped[str] = mapped_column(KEY_TYPE, primary_key=True)
    listing_id: Mapped[str] = mapped_column(
        ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True
    )
