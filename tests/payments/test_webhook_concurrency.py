"""The same event delivered twice at the same moment is applied once (two real transactions)."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.money import Money
from marketplace.orders.models import Order
from marketplace.payments import services
from marketplace.payments.gateway import PaymentStatus, WebhookAction, WebhookEvent
from marketplace.payments.models import Payment, WebhookEventRecord
from marketplace.payments.services import PaymentChange
from tests.factories import make_order


def test_the_same_event_delivered_concurrently_is_applied_once(engine: Engine) -> None:
    # Committed rows (not the per-test rollback): each delivery is its own transaction, as in production.
    with Session(engine) as setup:
        order_id = make_order(setup, "EUR")[0]
        payment = Payment(
            order_id=order_id,
            gateway="stripe",
            reference="pi_concurrent",
            idempotency_key="concurrent",
            status=PaymentStatus.PENDING.value,
            amount_minor=5000,
            refunded_minor=0,
            currency="EUR",
        )
        setup.add(payment)
        setup.commit()
        payment_id = payment.id
        buyer_id = setup.get(Order, order_id).buyer_id  # type: ignore[union-attr]
    event = WebhookEvent(
        event_id="evt_concurrent",
        event_type="payment_intent.succeeded",
        action=WebhookAction.PAYMENT_SUCCEEDED,
        occurred_at=dt.datetime.now(dt.UTC),
        payment_reference="pi_concurrent",
        amount=Money.of("50.00", "EUR"),
    )
    applied: list[PaymentChange] = []
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def deliver() -> None:
        listeners = {
            WebhookAction.PAYMENT_SUCCEEDED: lambda session, change: applied.append(change)
        }
        with Session(engine) as session:
            barrier.wait()
            outcomes.append(services.apply_webhook_event(session, "stripe", event, listeners).value)
            session.commit()

    try:
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == ["applied", "duplicate"]
        assert len(applied) == 1
        with Session(engine) as check:
            stored = check.scalar(
                select(func.count())
                .select_from(WebhookEventRecord)
                .where(WebhookEventRecord.event_id == "evt_concurrent")
            )
            assert stored == 1
            assert check.get(Payment, payment_id).status == PaymentStatus.SUCCEEDED  # type: ignore[union-attr]
    finally:
        with Session(engine) as cleanup:
            cleanup.execute(
                delete(WebhookEventRecord).where(WebhookEventRecord.event_id == "evt_concurrent")
            )
            cleanup.execute(delete(Payment).where(Payment.id == payment_id))
            cleanup.execute(delete(Order).where(Order.id == order_id))
            cleanup.execute(delete(User).where(User.id == buyer_id))
            cleanup.commit()
