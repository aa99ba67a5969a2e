"""Telling the workers, once a transaction has committed, that there is work for them.

Services note what the worker should look at in `session.info`; the jobs layer listens for the
session's commit and queues it then (never before: a worker must find the rows it is sent to).
Outbox events are noticed without being noted: any flushed `OutboxEvent` counts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

DELIVERIES = "wake_deliveries"


def deliver_soon(session: Session, delivery_id: str) -> None:
    session.info.setdefault(DELIVERIES, []).append(delivery_id)
