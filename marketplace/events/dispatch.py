"""Handing outbox events on, and sending what they became, at least once.

The database is the source of truth and the task queue only says "look now": `hand_on` turns
undispatched events into webhook deliveries and emails in one transaction (the event is marked
dispatched with them), and each batch of deliveries (one endpoint's) or emails is then claimed by
one worker in one statement, attempted outside any transaction (over kept-open connections), and
settled in one more: sent, or due again after a growing delay. A worker that
dies mid-attempt leaves a claim that expires, and `due_rows` finds everything that is due but
was never queued (Redis down, the enqueue lost in a crash), for the periodic sweep.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session

from marketplace.db import new_id
from marketplace.events.models import (
    EmailMessage,
    EndpointStatus,
    SendStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from marketplace.events.transport import (
    TIMEOUT_SECONDS,
    SendResult,
    WebhookSender,
    signature_headers,
)
from marketplace.orders.models import Shipment
from marketplace.orders.queries import OrderViews
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
CLAIM = dt.timedelta(seconds=60)  # a batch's claim: longer than any attempt (10 s) by far
BATCH = 100

# The resource an event is about, as the API serves it (to the seller, or whole when None).
DataBuilder = Callable[[Session, OutboxEvent, str | None, OrderViews], dict[str, Any]]


@dataclass(frozen=True)
class Email:
    recipient: str
    locale: str
    subject: str
    text: str


EmailComposer = Callable[[Session, OutboxEvent, OrderViews], list[Email]]


@dataclass(frozen=True)
class OutgoingEmail:
    recipient: str
    subject: str
    text: str
    id: str = ""  # the email_messages row it settles, once claimed


class Mailer(Protocol):
    def send(self, emails: Sequence[OutgoingEmail]) -> list[str | None]:
        """Send each email (over one connection); per email, None or what went wrong."""
        ...


@dataclass(frozen=True)
class Attempt:
    """One claimed delivery, with all it takes to send it (no database needed until settling)."""

    id: str
    endpoint_id: str
    endpoint_status: str
    url: str
    body: str
    event_id: str
    secrets: list[str]


@dataclass
class Handoff:
    """What `hand_on` created, for the caller to send or queue once it has committed.

    The first attempts for one endpoint (the one with most deliveries) and for every email are
    claimed by the hand-on itself, for the caller to make at once (`attempt`, `mail`); the
    other endpoints' deliveries are queued by endpoint, and claimed by whoever runs them.
    """

    events: int = 0
    claimed: list[Attempt] = field(default_factory=list)
    deliveries: dict[str, list[str]] = field(default_factory=dict)  # by endpoint
    emails: list[OutgoingEmail] = field(default_factory=list)
    paid_shipments: list[str] = field(default_factory=list)


def _relaxed(session: Session) -> None:
    """Commit this bookkeeping transaction without waiting for the WAL flush (PostgreSQL).

    Losing it in a database crash loses nothing that matters: an unrecorded hand-on leaves its
    events undispatched, an unrecorded claim or outcome leaves the attempt due, and the sweep
    queues them again; at worst a receiver gets a webhook twice, with the same `webhook-id`. The
    events themselves were committed, durably, by the change that made them.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def hand_on(
    session: Session,
    now: dt.datetime,
    build_data: DataBuilder,
    compose_emails: EmailComposer,
    limit: int = BATCH,
) -> Handoff:
    """Turn the oldest undispatched events into deliveries and emails (several workers at once:
    each takes other rows, SKIP LOCKED on PostgreSQL; SQLite has one writer anyway)."""
    _relaxed(session)
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
        views = OrderViews(session, now)  # per event: its webhooks and emails read it once
        sellers = _sellers_of(session, event) if by_sellers else set()
        bodies: dict[str | None, str] = {}
        for endpoint in endpoints:
            if event.type not in endpoint.events:
                continue
            if endpoint.seller_id is not None and endpoint.seller_id not in sellers:
                continue
            if endpoint.seller_id not in bodies:
                data = build_data(session, event, endpoint.seller_id, views)
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
            handoff.deliveries.setdefault(endpoint.id, []).append(delivery.id)
        for email in compose_emails(session, event, views):
            message = EmailMessage(
                id=new_id(),
                event_id=event.id,
                recipient=email.recipient,
                locale=email.locale,
                subject=email.subject,
                text=email.text,
                next_attempt_at=now,
                locked_until=now + CLAIM,  # claimed for the caller, who sends it next
                attempts=1,
            )
            rows.append(message)
            handoff.emails.append(
                OutgoingEmail(email.recipient, email.subject, email.text, message.id)
            )
        if event.type == EventType.ORDER_PAID:
            handoff.paid_shipments.extend(
                session.scalars(
                    select(Shipment.id)
                    .where(Shipment.order_id == event.data["order_id"])
                    .order_by(Shipment.position)
                )
            )
    _claim_first(handoff, rows, {endpoint.id: endpoint for endpoint in endpoints}, now)
    session.add_all(rows)  # one multi-row INSERT per table at the flush
    session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.id.in_([event.id for event in events]))
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return handoff


def _claim_first(
    handoff: Handoff,
    rows: list[WebhookDelivery | EmailMessage],
    endpoints: dict[str, WebhookEndpoint],
    now: dt.datetime,
) -> None:
    """Claim the new deliveries of the endpoint with most of them, in the hand-on's own
    transaction: the worker that handed them on sends them next, without claiming again."""
    if not handoff.deliveries:
        return
    endpoint_id = max(handoff.deliveries, key=lambda key: len(handoff.deliveries[key]))
    endpoint = endpoints[endpoint_id]
    secrets_ = _signing_secrets(endpoint, now)
    for row in rows:
        if isinstance(row, WebhookDelivery) and row.endpoint_id == endpoint_id:
            row.locked_until, row.attempts = now + CLAIM, 1
            handoff.claimed.append(
                Attempt(
                    row.id,
                    endpoint_id,
                    endpoint.status,
                    endpoint.url,
                    row.body,
                    row.event_id,
                    secrets_,
                )
            )
    del handoff.deliveries[endpoint_id]


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

# A batch stops starting attempts this long after its claim, well before the claim runs out (the
# rest is released for the next task), so that no attempt is ever made twice at once.
BATCH_BUDGET = CLAIM - 2 * dt.timedelta(seconds=TIMEOUT_SECONDS)


def claim(
    session: Session, model: type[Row], row_ids: Sequence[str], now: dt.datetime
) -> list[Row]:
    """Take the due attempts among `row_ids` for this worker, in one statement; those not due,
    or held by another worker, are left out."""
    if not row_ids:
        return []
    claimed = session.scalars(
        update(model)
        .where(
            model.id.in_(row_ids),
            model.status == SendStatus.PENDING,
            model.next_attempt_at <= now,
            or_(model.locked_until.is_(None), model.locked_until < now),
        )
        .values(locked_until=now + CLAIM, attempts=model.attempts + 1)
        .returning(model)
        .execution_options(populate_existing=True)
    ).all()
    return sorted(claimed, key=lambda row: (row.created_at, row.id))


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


def _release(row: WebhookDelivery | EmailMessage) -> None:
    """Give back a claimed attempt that was never made (the batch ran out of time)."""
    row.locked_until = None
    row.attempts -= 1


Retries = dict[dt.timedelta, list[str]]


def deliver_webhooks(
    sessions: Callable[[], Session],
    sender: WebhookSender,
    delivery_ids: Sequence[str],
    now: Callable[[], dt.datetime],
) -> Retries:
    """One attempt at each due delivery of the batch; the ids to try again, by delay.

    Two short transactions for the whole batch (claim, then settle) and no transaction held
    while receivers answer; the sender keeps connections open between attempts.
    """
    started = time.monotonic()
    with sessions() as session:
        _relaxed(session)
        claimed = claim(session, WebhookDelivery, delivery_ids, now())
        if not claimed:
            session.rollback()
            return {}
        endpoints = {
            endpoint.id: endpoint
            for endpoint in session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.id.in_({row.endpoint_id for row in claimed})
                )
            )
        }
        at = now()
        attempts = [
            Attempt(
                row.id,
                row.endpoint_id,
                endpoints[row.endpoint_id].status,
                endpoints[row.endpoint_id].url,
                row.body,
                row.event_id,
                _signing_secrets(endpoints[row.endpoint_id], at),
            )
            for row in claimed
        ]
        session.commit()
    return attempt(sessions, sender, attempts, now, started=started)


def attempt(
    sessions: Callable[[], Session],
    sender: WebhookSender,
    attempts: Sequence[Attempt],
    now: Callable[[], dt.datetime],
    *,
    started: float,
) -> Retries:
    """Make claimed attempts (no transaction is held while receivers answer), then settle them
    all in one transaction; the ids to try again, by delay. Attempts not started within
    BATCH_BUDGET of `started` (time.monotonic) are released, due at once."""
    if not attempts:
        return {}
    results: dict[str, SendResult] = {}
    for one in attempts:
        if time.monotonic() - started > BATCH_BUDGET.total_seconds():
            break
        headers = signature_headers(one.event_id, one.body, one.secrets, now())
        results[one.id] = sender.send(one.url, one.body, headers)
    statuses = {one.endpoint_id: one.endpoint_status for one in attempts}
    before = dict(statuses)
    retries: Retries = {}
    with sessions() as session:
        _relaxed(session)
        rows = session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.id.in_([one.id for one in attempts]))
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
        ).all()  # a deleted endpoint took its deliveries with it
        for row in rows:
            result = results.get(row.id)
            if result is None:
                _release(row)
                retries.setdefault(dt.timedelta(0), []).append(row.id)
                continue
            row.last_status_code = result.status_code
            delay = settle(row, error=result.error, now=now())
            if delay is not None:
                retries.setdefault(delay, []).append(row.id)
            statuses[row.endpoint_id] = {
                SendStatus.FAILED: EndpointStatus.FAILING,
                SendStatus.DELIVERED: EndpointStatus.ACTIVE,
            }.get(row.status, statuses[row.endpoint_id])
        for endpoint_id, status in statuses.items():
            if status != before[endpoint_id]:
                session.execute(
                    update(WebhookEndpoint)
                    .where(WebhookEndpoint.id == endpoint_id)
                    .values(status=status)
                )
        session.commit()
    return retries


def _signing_secrets(endpoint: WebhookEndpoint, now: dt.datetime) -> list[str]:
    secrets_ = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def send_emails(
    sessions: Callable[[], Session],
    mailer: Mailer,
    email_ids: Sequence[str],
    now: Callable[[], dt.datetime],
) -> Retries:
    """One attempt at each due email of the batch, over one connection; the ids to try again."""
    with sessions() as session:
        _relaxed(session)
        claimed = claim(session, EmailMessage, email_ids, now())
        if not claimed:
            session.rollback()
            return {}
        outgoing = [OutgoingEmail(row.recipient, row.subject, row.text, row.id) for row in claimed]
        session.commit()
    return mail(sessions, mailer, outgoing, now)


def mail(
    sessions: Callable[[], Session],
    mailer: Mailer,
    emails: Sequence[OutgoingEmail],
    now: Callable[[], dt.datetime],
) -> Retries:
    """Send claimed emails over one connection, then settle them in one transaction; the ids
    to try again, by delay."""
    if not emails:
        return {}
    errors = dict(zip([email.id for email in emails], mailer.send(emails), strict=True))
    retries: Retries = {}
    with sessions() as session:
        _relaxed(session)
        for row in session.scalars(select(EmailMessage).where(EmailMessage.id.in_(errors))):
            delay = settle(row, error=errors[row.id], now=now())
            if delay is not None:
                retries.setdefault(delay, []).append(row.id)
        session.commit()
    return retries


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
