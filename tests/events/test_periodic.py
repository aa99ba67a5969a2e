"""Periodic jobs run once per period however many workers fire them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from marketplace.jobs import schedule
from marketplace.money import services as money
from marketplace.orders.models import Order
from marketplace.outbox import OutboxEvent
from tests.factories import Market

JOB = schedule.PERIODIC[0]  # orders.expire, every minute
ECB_FILE = Path(__file__).resolve().parents[1] / "money" / "data" / "eurofxref-daily-2022-07-08.xml"


def test_a_period_is_claimed_by_one_worker_only(session_factory: sessionmaker[Session]) -> None:
    now = dt.datetime(2026, 12, 2, 6, 30, 15, tzinfo=dt.UTC)
    with session_factory() as first:
        assert schedule.claim(first, JOB, now)
        first.commit()
    with session_factory() as second:  # another worker, the same minute
        assert not schedule.claim(second, JOB, now + dt.timedelta(seconds=40))
        assert schedule.claim(second, JOB, now + dt.timedelta(seconds=45))  # 06:31
        second.commit()


def test_the_schedule_crontabs() -> None:
    daily = schedule.PeriodicJob("x", "day", schedule.refresh_rates, at="16:15")
    assert daily.crontab() == {"hour": "16", "minute": "15"}
    assert daily.period(dt.datetime(2026, 12, 2, 16, 15, tzinfo=dt.UTC)) == "2026-12-02"
    assert JOB.crontab() == {"minute": "*"}


def test_the_expiry_job_expires_unpaid_orders_and_records_their_events(market: Market) -> None:
    order = market.placed((market.tea, 2))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    summary = JOB.run(market.session, later, {"CART_TTL_DAYS": 30})
    assert summary.startswith("1 orders expired")
    row = market.session.get(Order, order["id"])
    assert row is not None and row.status == "expired"
    expired = market.session.scalars(
        select(OutboxEvent.data).where(OutboxEvent.type == "order.expired")
    ).all()
    assert expired == [{"order_id": order["id"]}]


def test_the_daily_rates_job_imports_the_ecb_file_at_rates_url_when_set(
    session: Session,
) -> None:
    rates_job = next(job for job in schedule.PERIODIC if job.name == "rates.refresh")
    now = dt.datetime.now(dt.UTC)
    assert rates_job.run(session, now, {"RATES_URL": ""}) == "RATES_URL not set"
    summary = rates_job.run(session, now, {"RATES_URL": str(ECB_FILE)})
    assert summary.endswith("of 2022-07-08")
    assert money.current_table(session).as_of >= dt.date(2022, 7, 8)
