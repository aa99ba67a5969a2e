"""Periodic jobs: each runs once per period however many workers are running.

Every worker's scheduler fires each job; the first to claim the period in the database
(`periodic_runs`, a row lock) runs it, in the same transaction, and the others skip it. A job
that fails rolls its claim back, so the next firing runs it again.

To add a periodic job, append a `PeriodicJob` to `PERIODIC`: a name,
`every` ("minute", "hour" or "day", with `at` for the minute of the hour or "HH:MM" of the day,
UTC) and a function of (session, now, settings) that flushes and returns a short summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.checkout import carts
from marketplace.events.models import PeriodicRun
from marketplace.money.services import import_rates
from marketplace.money.sources import EcbXml
from marketplace.orders import expiry, idempotency
from marketplace.payments import order_payments

JobFunction = Callable[[Session, dt.datetime, Mapping[str, Any]], str]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: Literal["minute", "hour", "day"]
    run: JobFunction
    at: str = ""  # "MM" for hourly jobs, "HH:MM" for daily ones (UTC)

    def crontab(self) -> dict[str, str]:
        if self.every == "minute":
            return {"minute": "*"}
        if self.every == "hour":
            return {"minute": self.at or "0"}
        hour, _, minute = (self.at or "00:00").partition(":")
        return {"hour": str(int(hour)), "minute": str(int(minute))}

    def period(self, now: dt.datetime) -> str:
        """The period `now` falls in, as text that sorts in time order."""
        return now.strftime(
            {"minute": "%Y-%m-%dT%H:%M", "hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d"}[self.every]
        )


def claim(session: Session, job: PeriodicJob, now: dt.datetime) -> bool:
    """True for the one caller that takes this period of the job; the row stays locked until
    the caller's transaction ends, so a second worker waits and then finds it taken."""
    period = job.period(now)
    row = session.get(PeriodicRun, job.name, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(PeriodicRun(name=job.name, period=period, claimed_at=now))
            return True
        except IntegrityError:
            row = session.get(PeriodicRun, job.name, with_for_update=True, populate_existing=True)
            assert row is not None
    if row.period >= period:
        return False
    row.period = period
    row.claimed_at = now
    session.flush()
    return True


def expire_orders(session: Session, now: dt.datetime, settings: Mapping[str, Any]) -> str:
    """Unpaid orders past their reservation give their stock back and stop awaiting their bank
    transfers; old idempotency keys and carts idle for CART_TTL_DAYS go."""
    expired = expiry.expire_due(session, now)
    transfers = order_payments.cancel_abandoned_transfers(session)
    purged = idempotency.purge_expired(session, now)
    idle = carts.delete_idle_carts(
        session, now, ttl=dt.timedelta(days=int(settings["CART_TTL_DAYS"]))
    )
    return (
        f"{len(expired)} orders expired, {len(transfers)} bank transfers cancelled, "
        f"{purged} idempotency keys purged, {idle} idle carts deleted"
    )


def refresh_rates(session: Session, now: dt.datetime, settings: Mapping[str, Any]) -> str:
    """The ECB's daily reference rates from RATES_URL (nothing when it is not set)."""
    if not settings["RATES_URL"]:
        return "RATES_URL not set"
    rate_set = import_rates(session, EcbXml(settings["RATES_URL"]), now)
    return f"rate set {rate_set.id} of {rate_set.as_of}"


PERIODIC: tuple[PeriodicJob, ...] = (
    PeriodicJob("orders.expire", "minute", expire_orders),
    # The ECB publishes around 16:00 CET; a quarter past four UTC is after it all year round.
    PeriodicJob("rates.refresh", "day", refresh_rates, at="16:15"),
)
