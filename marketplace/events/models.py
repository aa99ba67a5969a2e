"""Tables of the events layer: webhook endpoints, their deliveries, emails, periodic job runs."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, StrEnumColumn, created_at, enum_check, uuid_pk


class EndpointStatus(enum.StrEnum):
    ACTIVE = "active"
    FAILING = "failing"  # a delivery ran out of retries; new events are still attempted


class SendStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # every retry used up


class WebhookEndpoint(Base):
    """A URL that receives signed events: a seller's (its own shipments') or platform-wide."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint(enum_check("status", EndpointStatus), name="status"),
        Index("ix_webhook_endpoints_seller_id_created_at", "seller_id", "created_at"),
    )

    id: Mapped[uuid_pk]
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    seller_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    description: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret signs too, until receivers have switched over.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[dt.datetime | None]
    status: Mapped[EndpointStatus] = mapped_column(
        StrEnumColumn(EndpointStatus, 16), default=EndpointStatus.ACTIVE
    )
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[created_at]


class _Outgoing:
    """What webhook deliveries and emails share: attempts on a schedule, claimed by one worker."""

    status: Mapped[SendStatus] = mapped_column(
        StrEnumColumn(SendStatus, 16), default=SendStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    # A worker holds a claimed attempt until then; past it, another may try (the first died).
    locked_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]


class WebhookDelivery(_Outgoing, Base):
    """One event for one endpoint; the body is fixed when created so every retry is identical."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint(enum_check("status", SendStatus), name="status"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )

    id: Mapped[uuid_pk]
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)


class EmailMessage(_Outgoing, Base):
    """One email about one event, written in the recipient's language when the event is handed on."""

    __tablename__ = "email_messages"
    __table_args__ = (
        CheckConstraint(enum_check("status", SendStatus), name="status"),
        Index("ix_email_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[uuid_pk]
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(35))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)


class PeriodicRun(Base):
    """The last period each periodic job ran for: one worker claims a period, the others skip it."""

    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    period: Mapped[str] = mapped_column(String(40))
    claimed_at: Mapped[dt.datetime]
