"""Users, their API tokens, and the organisations (sellers, brokerages) they belong to."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, StrEnumColumn, country_code, created_at, enum_check, uuid_pk


class OrganisationKind(enum.StrEnum):
    SELLER = "seller"
    BROKERAGE = "brokerage"


class Role(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid_pk]
    email: Mapped[str] = mapped_column(String(254))
    # Lower-cased copy: emails are unique case-insensitively on every backend.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(35), default="en")
    country: Mapped[str | None] = mapped_column(String(2))
    currency: Mapped[str | None] = mapped_column(String(3))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created_at]

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")


class ApiToken(Base):
    """An opaque bearer token; only its SHA-256 is stored, so a database leak grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid_pk]
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    # Set on a guest's token: it reads this one order (and what hangs off it) and nothing else.
    # No foreign key: accounts sit below orders, and the order outlives no token that names it.
    order_id: Mapped[str | None] = mapped_column(String(36))


class Organisation(Base):
    """A seller (an SME that lists goods) or a customs brokerage; both have owners and members."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(enum_check("kind", OrganisationKind), name="kind"),
        Index("ix_organisations_kind_country", "kind", "country"),
    )

    id: Mapped[uuid_pk]
    kind: Mapped[OrganisationKind] = mapped_column(StrEnumColumn(OrganisationKind, 16))
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[country_code]
    address: Mapped[dict[str, Any]] = mapped_column(JSON)
    currency: Mapped[str | None] = mapped_column(String(3))
    locale: Mapped[str | None] = mapped_column(String(35))
    tax_id: Mapped[str | None] = mapped_column(String(64))
    eori: Mapped[str | None] = mapped_column(String(32))
    licence_number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[created_at]

    members: Mapped[list[Membership]] = relationship(back_populates="organisation", lazy="raise")
    served_countries: Mapped[list[BrokerageCountry]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="BrokerageCountry.country"
    )

    @property
    def countries(self) -> list[str]:
        return [row.country for row in self.served_countries]


class BrokerageCountry(Base):
    """A country a brokerage clears goods into: a row each, so `?country=` is an indexed lookup."""

    __tablename__ = "brokerage_countries"

    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        CheckConstraint(enum_check("role", Role), name="role"),
    )

    id: Mapped[uuid_pk]
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role, 16))
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    organisation: Mapped[Organisation] = relationship(back_populates="members", lazy="joined")


class SavedAddress(Base):
    """An address in a buyer's address book, to fill a cart's or an order's `ship_to`."""

    __tablename__ = "saved_addresses"
    __table_args__ = (Index("ix_saved_addresses_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[uuid_pk]
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[country_code]
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[created_at]


class Invitation(Base):
    """An owner's offer of a role, addressed to an email; it becomes a membership when accepted.

    Addressed to an email rather than to a user, so inviting answers the same whether or not the
    address has an account (someone who registers later finds the invitation waiting).
    """

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("organisation_id", "email_key"),
        CheckConstraint(enum_check("role", Role), name="role"),
    )

    id: Mapped[uuid_pk]
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    role: Mapped[Role] = mapped_column(StrEnumColumn(Role, 16))
    invited_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[created_at]

    organisation: Mapped[Organisation] = relationship(lazy="joined")
