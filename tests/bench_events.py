"""Event delivery and scale-out, for `make bench` (or alone: `python -m tests.bench_events [s]`).

1. Delivery: one `flask worker` process (BENCH_WORKER_THREADS, 8) on the local Redis delivers signed webhooks
   to a receiver on loopback (HTTP/1.1, keeping connections open as receivers do). Throughput:
   600 order.placed events (each also an email to the buyer) committed while no worker runs,
   then the worker drains them (deliveries per second per worker). Lag: once the backlog and
   its emails are done, events committed through the application's outbox at 50 per second in
   all from 5 threads while the worker runs; commit-to-arrival p50 and p99 (target p99 < 2 s).
2. Scale-out: two gunicorn instances and two workers on one PostgreSQL and one Redis (queue and
   rate limits). 30 buyers race for 5 units across both instances, one Idempotency-Key is sent
   to both at once, each order is paid by card (localstripe) and its signed Stripe webhook is
   posted twice to each instance at once; then it checks 5 units sold, one order for the key,
   each Stripe event applied once, every order.placed/order.paid event delivered once or more,
   and a token limit counted across both instances.

Each part has its own PostgreSQL database (BENCH_DATABASE_URL, an admin URL) and its own Redis
keys (a queue name of its own on db 12; rate-limit counters on db 13, flushed), removed afterwards.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

ADMIN_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
os.environ.setdefault("TEST_DATABASE_URL", ADMIN_URL)  # tests.database makes the databases

from marketplace.accounts.models import ApiToken  # noqa: E402
from marketplace.accounts.services import hash_token  # noqa: E402
from marketplace.db import utcnow  # noqa: E402
from marketplace.events.models import EmailMessage, SendStatus  # noqa: E402
from marketplace.money import Money  # noqa: E402
from marketplace.orders.models import Order  # noqa: E402
from marketplace.outbox import EventType, OutboxEvent, record  # noqa: E402
from marketplace.payments.adapters.stripe import to_stripe_amount  # noqa: E402
from marketplace.payments.models import WebhookEventRecord  # noqa: E402
from tests.events.committed import ROOT, Committed, committed_market, kill, start_worker  # noqa: E402
from tests.events.receiver import Receiver, start_receiver  # noqa: E402

RATE = 50  # events per second for the lag measurement
THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "8"))  # of the one worker process
BACKLOG = 600
COMMITTERS = 5  # threads committing events for the lag measurement
PORTS = range(18400, 18500)
# Rate-limit counters of the scale-out instances: a Redis database of this bench's own.
LIMITS_REDIS_URL = os.environ.get("BENCH_LIMITS_REDIS_URL", "redis://127.0.0.1:6379/13")
STRIPE_KEY, STRIPE_SECRET = "sk_test_localstripe", "whsec_bench_silk_road"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _free_ports(count: int) -> list[int]:
    ports = []
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError("not enough free ports in 18400-18499")


def _endpoint(market: Committed, receiver: Receiver, events: list[str]) -> None:
    response = market.api.post(
        "/webhook-endpoints", json={"url": receiver.url, "events": events}, as_=market.operator
    )
    assert response.status_code == 201, response.get_json()


def _arrivals(receiver: Receiver) -> dict[str, float]:
    """Event id -> first arrival time (a redelivery keeps the first)."""
    first: dict[str, float] = {}
    with receiver.lock:
        for received in receiver.received:
            first.setdefault(received.headers["webhook-id"], received.at)
    return first


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction + 0.5) - 1)]


def _settled(market: Committed, timeout: float = 120) -> None:
    """Wait until the worker has sent every email it was given (none pending)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(market.engine) as session:
            pending = session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.status == SendStatus.PENDING.value)
            )
        if not pending:
            return
        time.sleep(0.1)
    raise AssertionError(f"{pending} emails still pending after {timeout} s")


def _commit_at_rate(sessions: Any, order_id: str, seconds: float) -> dict[str, float]:
    """Events committed through the application's outbox at RATE per second in all, from
    COMMITTERS threads (as several web workers would), each on its own schedule so that a slow
    commit on a busy machine does not lower the rate offered. Event id -> commit time."""
    committed: dict[str, float] = {}
    lock = threading.Lock()
    started = time.monotonic()

    def commit(offset: int) -> None:
        next_at = started + offset / RATE
        while next_at < started + seconds:
            time.sleep(max(0.0, next_at - time.monotonic()))
            with sessions() as session:
                event = record(session, EventType.ORDER_PLACED, order_id=order_id)
                session.commit()
            with lock:
                committed[event.id] = time.time()
            next_at += COMMITTERS / RATE

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(COMMITTERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return committed


def bench_delivery(seconds: float) -> list[str]:
    receiver = start_receiver(_free_ports(1)[0])
    with committed_market("bench_events", LOG_LEVEL="WARNING") as market:
        _endpoint(market, receiver, ["order.placed"])
        listing = market.listing(stock=1000)
        placed = market.api.post(
            "/orders", json=market.order_body(listing), as_=market.seller_owner
        )
        assert placed.status_code == 201, placed.get_json()
        order_id = placed.get_json()["id"]
        sessions = market.app.extensions["marketplace"]["session_factory"]

        with sessions() as session:  # a backlog committed while no worker runs
            for _ in range(BACKLOG):
                record(session, EventType.ORDER_PLACED, order_id=order_id)
            session.commit()
        worker = start_worker(market.env, threads=THREADS)
        try:
            receiver.wait_for(BACKLOG + 1, timeout=600)
            times = sorted(r.at for r in receiver.received)
            drain = times[-1] - times[0]
            throughput = (len(times) - 1) / drain if drain else float("inf")
            _settled(market)  # the backlog's emails too, before the lag is measured

            committed = _commit_at_rate(sessions, order_id, seconds)
            offered = len(committed) / seconds
            receiver.wait_for(BACKLOG + 1 + len(committed), timeout=120)
        finally:
            kill(worker)
        arrivals = _arrivals(receiver)
        lags = [arrivals[event_id] - at for event_id, at in committed.items()]
    receiver.server.shutdown()
    p50, p99 = statistics.median(lags), _percentile(lags, 0.99)
    return [
        "",
        f"| event delivery (1 worker process, {THREADS} threads, Redis) | figure |",
        "|---|---:|",
        f"| backlog of {BACKLOG} drained | {throughput:.0f} deliveries/s per worker |",
        f"| commit-to-delivery lag at {offered:.0f} events/s, p50 | {p50 * 1000:.0f} ms |",
        f"| commit-to-delivery lag at {offered:.0f} events/s, p99 | {p99 * 1000:.0f} ms |",
        f"lag p99 {p99:.2f} s (target < 2 s): {'met' if p99 < 2 else 'NOT met'}"
        f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
    ]


# --- scale-out ------------------------------------------------------------------------------


@contextmanager
def _instances(env: dict[str, str], count: int) -> Iterator[list[int]]:
    ports = _free_ports(count)
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env={
                **os.environ,
                **env,
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "WEB_CONCURRENCY": "2",
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for port in ports
    ]
    try:
        for port in ports:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
        yield ports
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _call(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    raw = (
        body
        if isinstance(body, bytes)
        else (json.dumps(body).encode() if body is not None else None)
    )
    connection.request(
        method,
        "/api/v1" + path,
        body=raw,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else None


def _at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def _tokens(market: Committed, count: int) -> list[str]:
    """Buyers with tokens written directly (logging 30 buyers in would spend the token limit)."""
    buyers = []
    for i in range(count):
        registered = market.api.post(
            "/auth/register",
            json={
                "email": f"buyer{i}@bench.test",
                "password": "correct horse battery",
                "name": f"Buyer {i}",
            },
        )
        assert registered.status_code == 201, registered.get_json()
        buyers.append(registered.get_json()["id"])
    raw = [secrets.token_urlsafe(32) for _ in buyers]
    with Session(market.engine) as session:
        for buyer, token in zip(buyers, raw, strict=True):
            session.add(
                ApiToken(
                    user_id=buyer,
                    token_hash=hash_token(token),
                    expires_at=utcnow() + dt.timedelta(days=1),
                )
            )
        session.commit()
    return raw


def _signed(payment_intent: str, amount: dict[str, str]) -> tuple[bytes, str]:
    import stripe

    money = Money.of(amount["amount"], amount["currency"])
    event = {
        "id": f"evt_bench_{payment_intent}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": payment_intent,
                "object": "payment_intent",
                "amount": to_stripe_amount(money),
                "amount_received": to_stripe_amount(money),
                "currency": money.currency.lower(),
                "status": "succeeded",
            }
        },
    }
    body = json.dumps(event)
    return body.encode(), stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)


def scale_out() -> list[str]:
    import redis

    from tests.payments.localstripe_server import start_localstripe

    limits = redis.Redis.from_url(LIMITS_REDIS_URL)
    limits.flushdb()  # this bench's own database: counters of an earlier run would count
    stripe_server = start_localstripe()
    receiver = start_receiver(_free_ports(1)[0])
    settings = {
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": LIMITS_REDIS_URL,
        "TOKEN_RATE_LIMIT": "20 per minute",
        "STRIPE_API_KEY": STRIPE_KEY,
        "STRIPE_API_BASE": stripe_server.url,
        "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
    }
    lines = [
        "",
        "| scale-out: 2 gunicorn instances + 2 workers, 1 PostgreSQL, 1 Redis | result |",
        "|---|---|",
    ]
    try:
        with (
            committed_market("bench_scale", **settings) as market,
            _instances(market.env, 2) as ports,
        ):
            _endpoint(market, receiver, ["order.placed", "order.paid"])
            workers = [start_worker(market.env) for _ in range(2)]
            try:
                lines += _storm(market, ports, receiver)
            finally:
                for worker in workers:
                    kill(worker)
    finally:
        receiver.server.shutdown()
        stripe_server.stop()
        limits.flushdb()
    return lines


def _storm(market: Committed, ports: list[int], receiver: Receiver) -> list[str]:
    started = time.perf_counter()
    listing = market.listing(stock=5)
    tokens = _tokens(market, 31)
    body = market.order_body(listing)
    results = _at_once(
        [
            lambda i=i, t=t: _call(
                ports[i % 2],
                "POST",
                "/orders",
                body,
                {"Authorization": f"Bearer {t}", "Idempotency-Key": f"buy-{i}"},
            )
            for i, t in enumerate(tokens[:30])
        ]
    )
    sold = [order for status, order in results if status == 201]
    refused = sum(
        1 for status, order in results if status == 409 and order["code"] == "insufficient_stock"
    )

    key_listing = market.listing(stock=10)
    same_key = {"Authorization": f"Bearer {tokens[30]}", "Idempotency-Key": "double-click"}
    twins = _at_once(
        [
            lambda p=p: _call(p, "POST", "/orders", market.order_body(key_listing), same_key)
            for p in ports
        ]
    )
    one_order = [status for status, _o in twins] == [201, 201] and twins[0][1]["id"] == twins[1][1][
        "id"
    ]

    webhooks: list[tuple[bytes, str]] = []
    for index, order in enumerate([*sold, twins[0][1]]):
        token = (
            tokens[30] if order is twins[0][1] else tokens[[o for _s, o in results].index(order)]
        )
        status, payment = _call(
            ports[index % 2],
            "POST",
            f"/orders/{order['id']}/payments",
            {"gateway": "stripe"},
            {"Authorization": f"Bearer {token}"},
        )
        assert status == 201, payment
        reference = _payment_reference(market, payment["id"])
        webhooks.append(_signed(reference, payment["amount"]))
    outcomes = _at_once(
        [
            lambda p=p, w=w: _call(p, "POST", "/webhooks/stripe", w[0], {"Stripe-Signature": w[1]})
            for w in webhooks
            for p in ports * 2
        ]
    )
    applied = sum(1 for status, ack in outcomes if status == 200 and ack["outcome"] == "applied")

    # 30 attempts alternating between the instances: with counters per instance each would see
    # 15, under its limit of 20; counted together in Redis, the address's 21st is refused.
    limit_statuses = [
        _call(
            ports[i % 2],
            "POST",
            "/auth/tokens",
            {"email": "limit@bench.test", "password": "x" * 12},
        )[0]
        for i in range(30)
    ]
    allowed = sum(1 for status in limit_statuses if status != 429)
    shared_limit = 0 < allowed <= 20

    orders = [*sold, twins[0][1]]
    expected = {(o["id"], t) for o in orders for t in ("order.placed", "order.paid")}
    deadline = time.monotonic() + 60
    seen: set[tuple[str, str]] = set()
    while time.monotonic() < deadline and not expected <= seen:
        with receiver.lock:
            seen = {
                (json.loads(r.body)["data"]["id"], json.loads(r.body)["type"])
                for r in receiver.received
            }
        time.sleep(0.1)
    with Session(market.engine) as session:
        stock = session.scalar(
            select(func.count()).select_from(Order).where(Order.buyer_id.isnot(None))
        )
        paid_events = session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.type == "order.paid")
        )
        stripe_rows = session.scalar(select(func.count()).select_from(WebhookEventRecord))
    with receiver.lock:
        deliveries = len(receiver.received)
        duplicates = deliveries - len({r.headers["webhook-id"] for r in receiver.received})
    checks = [
        (
            f"30 buyers for 5 units: {len(sold)} orders, {refused} refused insufficient_stock",
            len(sold) == 5 and refused == 25,
        ),
        ("one Idempotency-Key sent to both instances at once: one order", one_order),
        (
            f"each Stripe event posted 4 times (2 per instance): applied {applied} of {len(webhooks)} events, {stripe_rows} stored",
            applied == len(webhooks) == stripe_rows == paid_events,
        ),
        (
            f"order.placed and order.paid of all {len(orders)} orders delivered ({deliveries} deliveries, {duplicates} redelivered)",
            expected <= seen,
        ),
        (
            f"token limit 20/min counted across both instances: {allowed} of 30 let through",
            shared_limit,
        ),
        (f"{stock} orders in the database", stock == 6),
    ]
    lines = [f"| {text} | {'ok' if ok else 'FAILED'} |" for text, ok in checks]
    lines.append(
        f"scale-out storm in {time.perf_counter() - started:.1f} s: {'all checks passed' if all(ok for _t, ok in checks) else 'SOME CHECKS FAILED'}"
    )
    return lines


def _payment_reference(market: Committed, payment_id: str) -> str:
    from marketplace.payments.models import Payment

    with Session(market.engine) as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        return payment.reference


def bench_events(seconds: float) -> list[str]:
    log(f"events: delivery throughput and lag at {RATE} events/s for {seconds:.0f} s")
    lines = bench_delivery(seconds)
    log("events: scale-out storm across two instances and two workers")
    return lines + scale_out()


if __name__ == "__main__":
    for line in bench_events(float(sys.argv[1]) if len(sys.argv) > 1 else 8.0):
        print(line)
