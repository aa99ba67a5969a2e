"""The tasks of one application on its Huey queue, and the hook that wakes them after commits."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, sessionmaker

from marketplace.api.event_payloads import event_data
from marketplace.db import utcnow
from marketplace.events import dispatch, wake
from marketplace.events.transport import HttpSender, WebhookSender
from marketplace.jobs import schedule
from marketplace.notifications.compose import email_composer
from marketplace.notifications.mailer import build_mailer
from marketplace.outbox import OutboxEvent
from marketplace.paperwork import shipments as paperwork

log = logging.getLogger("marketplace.jobs")
WAKE_OUTBOX = "wake_outbox"
SWEEP_BATCH = 50  # deliveries or emails per task when the sweep queues what it found due


def build_huey(settings: Mapping[str, Any]) -> Huey:
    """The queue TASK_QUEUE_URL names (empty: REDIS_URL when set, else a SQLite file)."""
    url: str = (
        settings["TASK_QUEUE_URL"] or settings["REDIS_URL"] or "sqlite:///instance/tasks.sqlite"
    )
    name = settings["TASK_QUEUE_NAME"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        # blocking: a worker waits on BRPOP and starts a task the moment it is queued; a Redis
        # that is down is noticed within 2 s, never held in a request.
        pool = redis.ConnectionPool.from_url(url, socket_connect_timeout=2)
        return RedisHuey(name, connection_pool=pool, blocking=True, utc=True)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), utc=True)
    if url == "memory://":  # queued and kept in this process, run by nobody (tests)
        return MemoryHuey(name, utc=True)
    if url == "immediate://":  # run in the process that queues them, at once (tests)
        return MemoryHuey(name, utc=True, immediate=True)
    raise ValueError(f"TASK_QUEUE_URL={url!r}: use redis://, sqlite:///, memory:// or immediate://")


class Jobs:
    """Every task, bound to the application's database, settings and outside systems."""

    def __init__(
        self,
        app: Flask,
        settings: Mapping[str, Any],
        sessions: sessionmaker[Session],
        *,
        sender: WebhookSender | None = None,
    ) -> None:
        self.huey = build_huey(settings)
        self.sessions = sessions
        sender = sender or HttpSender(allow_private=bool(settings["WEBHOOK_ALLOW_PRIVATE"]))
        mailer = build_mailer(settings["SMTP_URL"], settings["MAIL_FROM"])
        emails_for = email_composer(app.extensions["marketplace"]["payment_gateways"])
        huey = self.huey

        @huey.task()
        def hand_on() -> None:
            """Outbox events to deliveries and emails, then queue those (batch after batch)."""
            # Document links in payloads are built with url_for, which needs a request context;
            # a new application context keeps it apart from a request this may run inside.
            with app.app_context(), app.test_request_context(), sessions() as session:
                handoff = dispatch.hand_on(session, utcnow(), event_data, emails_for)
                session.commit()
                started = time.monotonic()
            for ids in handoff.deliveries.values():  # one batch per other endpoint
                deliver(ids)
            for shipment_id in handoff.paid_shipments:
                issue_documents(shipment_id)
            if handoff.events == dispatch.BATCH:
                hand_on()
            # The first attempts this hand-on claimed for one endpoint: made here, at once.
            retries = dispatch.attempt(sessions, sender, handoff.claimed, utcnow, started=started)
            for delay, ids in retries.items():
                deliver.schedule((ids,), delay=delay.total_seconds())
            # Its emails, claimed by the hand-on too, go next over one connection.
            for delay, ids in dispatch.mail(sessions, mailer, handoff.emails, utcnow).items():
                send_email.schedule((ids,), delay=delay.total_seconds())

        @huey.task()
        def deliver(delivery_ids: list[str]) -> None:
            retries = dispatch.deliver_webhooks(sessions, sender, delivery_ids, utcnow)
            for delay, ids in retries.items():
                deliver.schedule((ids,), delay=delay.total_seconds())

        @huey.task()
        def send_email(email_ids: list[str]) -> None:
            retries = dispatch.send_emails(sessions, mailer, email_ids, utcnow)
            for delay, ids in retries.items():
                send_email.schedule((ids,), delay=delay.total_seconds())

        @huey.task(retries=3, retry_delay=30)
        def issue_documents(shipment_id: str) -> None:
            """A paid shipment's paperwork, rendered here so that downloads only read it."""
            with sessions() as session:
                paperwork.issue(session, shipment_id, now=utcnow())
                session.commit()

        @huey.periodic_task(crontab(minute="*"))
        def sweep() -> None:
            """Queue again whatever is due but was never queued or was lost with a worker."""
            with sessions() as session:
                deliveries, emails, waiting = dispatch.due_rows(session, utcnow())
            if waiting:
                hand_on()
            for start in range(0, len(deliveries), SWEEP_BATCH):
                deliver(deliveries[start : start + SWEEP_BATCH])
            for start in range(0, len(emails), SWEEP_BATCH):
                send_email(emails[start : start + SWEEP_BATCH])

        @huey.on_startup()
        def catch_up() -> None:
            sweep()

        for job in schedule.PERIODIC:
            huey.periodic_task(crontab(**job.crontab()), name=job.name)(
                self._periodic(job, settings)
            )

        self.hand_on: Callable[[], Any] = hand_on
        self.deliver: Callable[[list[str]], Any] = deliver
        self.sweep: Callable[[], Any] = sweep
        self.issue_documents: Callable[[str], Any] = issue_documents
        _wake_after_commit(sessions, self)

    def _periodic(
        self, job: schedule.PeriodicJob, settings: Mapping[str, Any]
    ) -> Callable[[], None]:
        def run() -> None:
            now = utcnow()
            with self.sessions() as session:
                if not schedule.claim(session, job, now):
                    session.rollback()
                    return
                summary = job.run(session, now, settings)
                session.commit()
            log.info("periodic job %s: %s", job.name, summary)

        return run


def _wake_after_commit(sessions: sessionmaker[Session], jobs: Jobs) -> None:
    """After a commit that wrote outbox events or asked for a delivery, queue the work.

    A failure to queue (Redis down) loses nothing: the rows are committed and the workers'
    sweep finds them within a minute of Redis coming back. A note left by a transaction that
    rolled back only queues a look that finds nothing to do.
    """

    @orm_event.listens_for(sessions, "before_flush")
    def note_events(session: Session, _context: Any, _instances: Any) -> None:
        if any(isinstance(row, OutboxEvent) for row in session.new):
            session.info[WAKE_OUTBOX] = True

    @orm_event.listens_for(sessions, "after_commit")
    def wake_workers(session: Session) -> None:
        outbox = session.info.pop(WAKE_OUTBOX, False)
        deliveries = session.info.pop(wake.DELIVERIES, [])
        try:
            if outbox:
                jobs.hand_on()
            if deliveries:
                jobs.deliver(deliveries)
        except Exception:  # the sweep queues it later; the request must not fail for this
            log.warning("could not queue background work; the sweep will", exc_info=True)
