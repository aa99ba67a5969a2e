"""The transactional outbox: a row per domain event, written in the transaction of its change.

Domain services call `record()` beside the change they make (an order placed, paid, expired...),
so the event exists if and only if the change was committed: a rolled-back transaction leaves
none, and a committed one keeps its event through any crash until the events layer
(`marketplace/events/`) has delivered it. This module sits beside `db.py` so that every domain
package may use it without importing anything above itself.

An event keeps the ids of what changed (`data`); the resource itself is built as the API serves
it when the event is handed to webhook endpoints.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.db import Base, created_at, uuid_pk

# A listing whose stock falls to this many units or fewer after an order is "low on stock".
LOW_STOCK_AT = 3


class EventType(enum.StrEnum):
    ORDER_PLACED = "order.placed"
    ORDER_PAID = "order.paid"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_EXPIRED = "order.expired"
    PAYMENT_CREATED = "payment.created"  # a bank transfer's carries where and by when to pay
    PAYMENT_FAILED = "payment.failed"
    REFUND_CREATED = "refund.created"
    SHIPMENT_DISPATCHED = "shipment.dispatched"
    DOCUMENTS_ISSUED = "documents.issued"
    LISTING_LOW_STOCK = "listing.low_stock"


class OutboxEvent(Base):
    __tablename__ = "events"
    # The dispatcher looks for what it has not handed on yet, oldest first.
    __table_args__ = (Index("ix_events_pending", "dispatched_at", "created_at"),)

    id: Mapped[uuid_pk]
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[created_at]
    dispatched_at: Mapped[dt.datetime | None]


def record(session: Session, type_: EventType, **data: Any) -> OutboxEvent:
    """Add an event to the caller's transaction; it is committed, or discarded, with the change."""
    event = OutboxEvent(type=type_.value, data=data)
    session.add(event)
    return event
