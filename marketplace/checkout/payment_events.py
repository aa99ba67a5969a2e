"""What a payment change means for an order: the listeners the payments package calls.

Payments hands each applied gateway event to a listener per action (`payment_listeners()` in
marketplace/checkout/listeners.py): map PAYMENT_SUCCEEDED to `on_payment_succeeded` and REFUNDED
to `on_refunded`. Orders only hear of it here: they need none of payments' types.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.orders import lifecycle
from marketplace.payments.services import PaymentChange


def on_payment_succeeded(session: Session, change: PaymentChange) -> None:
    """The money arrived: the order is paid (a 409 if it expired or was cancelled meanwhile)."""
    lifecycle.mark_paid(session, change.order_id, now=utcnow(), payment_reference=change.payment_id)


def on_refunded(session: Session, change: PaymentChange) -> None:
    """Money went back: the order is refunded, or partially while some of the payment remains."""
    lifecycle.mark_refunded(
        session, change.order_id, now=utcnow(), partially=change.refunded < change.amount
    )
