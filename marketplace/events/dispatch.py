"""Handing outbox events on, and sending what they became, at least once.

The database is the source of truth and the task queue only says "look now": `hand_on` turns
undispatched events into webhook deliveries and emails in one transaction (the event is marked
dispatched with them), and each delivery or email is then claimed by one worker, attempted
outside any transaction, and settled: sent, or due again after a growing delay. A worker that
dies mid-attempt leaves a claim that expires, and `due_rows` finds everything that is due but
was never queued (Redis down, the enqueue lost in a crash), for the periodic sweep.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marketplace.db import new_id
from marketplace.events.models import (
    EmailMessage,
    EndpointStatus,
    SendStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from marketplace.events.transport import WebhookSender, signature_headers
from marketplace.orders.models import Shipment
from marketplace.outbox import EventType, OutboxEvent

# Standard Webhooks' schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (27.6 h).
RETRY_DELAYS = (
    dt.timedelta(0),
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
)
CLAIM = dt.timedelta(seconds=60)  # longer than any attempt (the HTTP timeout is 10 s)
BATCH = 100

# The resource an event is about, as the API serves it (to the seller, or whole when None).
DataBuilder = Callable[[Session, OutboxEvent, str | None, dt.datetime], dict[str, Any]]


@dataclass(frozen=True)
class Email:
    recipient: str
    locale: str
    subject: str
    text: str


EmailComposer = Callable[[Session, OutboxEvent, dt.datetime], list[Email]]


class Mailer(Protocol):
    def send(self, recipient: str, subject: str, text: str) -> None: ...


@dataclass
class Handoff:
    """What `hand_on` created, for the caller to queue once it has committed."""

    events: int = 0
    deliveries: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    paid_shipments: list[str] = field(default_factory=list)


def hand_on(
    session: Session,
    now: dt.datetime,
    build_data: DataBuilder,
    compose_emails: EmailComposer,
    limit: int = BATCH,
) -> Handoff:
    """Turn the oldest undispatched events into deliveries and emails (several workers at once:
    each takes other rows, SKIP LOCKED on PostgreSQL; SQLite has one writer anyway)."""
    events = list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.created_at, OutboxEvent.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    handoff = Handoff(events=len(events))
    if not events:
        return handoff
    endpoints = list(session.scalars(select(WebhookEndpoint)))
    by_sellers = any(endpoint.seller_id is not None for endpoint in endpoints)
    rows: list[WebhookDelivery | EmailMessage] = []
    for event in events:
        sellers = _sellers_of(session, event) if by_sellers else set()
        bodies: dict[str | None, str] = {}
        for endpoint in endpoints:
            if event.type not in endpoint.events:
                continue
            if endpoint.seller_id is not None and endpoint.seller_id not in sellers:
                continue
            if endpoint.seller_id not in bodies:
                data = build_data(session, event, endpoint.seller_id, now)
                bodies[endpoint.seller_id] = _body(event, data)
            delivery = WebhookDelivery(
                id=new_id(),
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type=event.type,
                body=bodies[endpoint.seller_id],
                next_attempt_at=now,
            )
            rows.append(delivery)
            handoff.deliveries.append(delivery.id)
        for email in compose_emails(session, event, now):
            message = EmailMessage(
                id=new_id(),
                event_id=event.id,
                recipient=email.recipient,
                locale=email.locale,
                subject=email.subject,
                text=email.text,
                next_attempt_at=now,
            )
            rows.append(message)
            handoff.emails.append(message.id)
        if event.type == EventType.ORDER_PAID:
            handoff.paid_shipments.extend(
                session.scalars(
                    select(Shipment.id)
                    .where(Shipment.order_id == event.data["order_id"])
                    .order_by(Shipment.position)
                )
            )
    session.add_all(rows)  # one multi-row INSERT per table at the flush
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_([event.id for event in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return handoff


def _sellers_of(session: Session, event: OutboxEvent) -> set[str]:
    """The sellers whose endpoints hear of the event: its shipment's, else every seller of its
    order, else the seller it names (a listing's)."""
    data = event.data
    if "shipment_id" in data:
        return set(
            session.scalars(select(Shipment.seller_id).where(Shipment.id == data["shipment_id"]))
        )
    if "order_id" in data:
        return set(
            session.scalars(select(Shipment.seller_id).where(Shipment.order_id == data["order_id"]))
        )
    return {data["seller_id"]} if "seller_id" in data else set()


def _body(event: OutboxEvent, data: dict[str, Any]) -> str:
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


Row = TypeVar("Row", WebhookDelivery, EmailMessage)


def claim(session: Session, model: type[Row], row_id: str, now: dt.datetime) -> Row | None:
    """Take one due attempt for this worker, or None if it is not due or another worker has it."""
    claimed = session.scalars(
        update(model)
        .where(
            model.id == row_id,
            model.status == SendStatus.PENDING,
            model.next_attempt_at <= now,
            or_(model.locked_until.is_(None), model.locked_until < now),
        )
        .values(locked_until=now + CLAIM, attempts=model.attempts + 1)
        .returning(model)
        .execution_options(populate_existing=True)
    ).first()
    return claimed


def settle(
    row: WebhookDelivery | EmailMessage, *, error: str | None, now: dt.datetime
) -> dt.timedelta | None:
    """Record an attempt's outcome; the delay until the next one, or None when there is none."""
    row.locked_until = None
    if error is None:
        row.status = SendStatus.DELIVERED
        row.sent_at = now
        row.last_error = None
        return None
    row.last_error = error[:500]
    if row.attempts >= len(RETRY_DELAYS):
        row.status = SendStatus.FAILED
        return None
    delay = RETRY_DELAYS[row.attempts]
    row.next_attempt_at = now + delay
    return delay


def deliver_webhook(
    sessions: Callable[[], Session],
    sender: WebhookSender,
    delivery_id: str,
    now: Callable[[], dt.datetime],
) -> dt.timedelta | None:
    """One attempt at a delivery; the delay until the next attempt if it failed and may retry."""
    with sessions() as session:
        delivery = claim(session, WebhookDelivery, delivery_id, now())
        if delivery is None:
            session.rollback()
            return None
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        assert endpoint is not None  # deleting an endpoint deletes its deliveries
        url, body, event_id = endpoint.url, delivery.body, delivery.event_id
        endpoint_id, endpoint_status = endpoint.id, endpoint.status
        signing = _signing_secrets(endpoint, now())
        session.commit()
    # No transaction is held while the receiver answers.
    result = sender.send(url, body, signature_headers(event_id, body, signing, now()))
    with sessions() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:  # the endpoint was deleted meanwhile
            return None
        delivery.last_status_code = result.status_code
        delay = settle(delivery, error=result.error, now=now())
        status = {
            SendStatus.FAILED: EndpointStatus.FAILING,
            SendStatus.DELIVERED: EndpointStatus.ACTIVE,
        }.get(delivery.status, endpoint_status)
        if status != endpoint_status:
            session.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.id == endpoint_id)
                .values(status=status)
            )
        session.commit()
        return delay


def _signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    secrets_ = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def send_email(
    sessions: Callable[[], Session],
    mailer: Mailer,
    email_id: str,
    now: Callable[[], dt.datetime],
) -> dt.timedelta | None:
    """One attempt at an email; the delay until the next attempt if it failed and may retry."""
    with sessions() as session:
        message = claim(session, EmailMessage, email_id, now())
        if message is None:
            session.rollback()
            return None
        recipient, subject, text = message.recipient, message.subject, message.text
        session.commit()
    error: str | None = None
    try:
        mailer.send(recipient, subject, text)
    except OSError as exc:  # smtplib's errors are OSErrors too
        error = f"{type(exc).__name__}: {exc}"
    with sessions() as session:
        message = session.get(EmailMessage, email_id)
        assert message is not None  # emails are never deleted before their event
        delay = settle(message, error=error, now=now())
        session.commit()
        return delay


def due_rows(session: Session, now: dt.datetime) -> tuple[list[str], list[str], bool]:
    """Deliveries and emails due and unclaimed, and whether events wait to be handed on."""

    def due(model: type[WebhookDelivery] | type[EmailMessage]) -> list[str]:
        return list(
            session.scalars(
                select(model.id)
                .where(
                    model.status == SendStatus.PENDING,
                    model.next_attempt_at <= now,
                    or_(model.locked_until.is_(None), model.locked_until < now),
                )
                .order_by(model.next_attempt_at)
                .limit(1000)
            )
        )

    waiting = session.scalar(
        select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None)).limit(1)
    )
    return due(WebhookDelivery), due(EmailMessage), waiting is not None


def retry_now(session: Session, delivery: WebhookDelivery, now: dt.datetime) -> None:
    """Make a delivery due at once (an owner's manual retry); one more attempt even after failing."""
    delivery.status = SendStatus.PENDING
    delivery.next_attempt_at = now
    delivery.locked_until = None
    if delivery.attempts >= len(RETRY_DELAYS):
        delivery.attempts = len(RETRY_DELAYS) - 1
    session.flush()
