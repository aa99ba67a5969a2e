"""What a payment change means for an order: the listeners the payments package calls.

Payments hands each applied gateway event to a listener per action (`payment_listeners()` in
marketplace/checkout/listeners.py): map PAYMENT_SUCCEEDED to `on_payment_succeeded` and REFUNDED
to `on_refunded`. The change is read by attribute, so orders need none of payments' types.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.money import Money
from marketplace.orders import services


class PaymentChangeLike(Protocol):
    @property
    def order_id(self) -> str: ...

    @property
    def payment_id(self) -> str: ...

    @property
    def amount(self) -> Money: ...

    @property
    def refunded(self) -> Money: ...


def on_payment_succeeded(session: Session, change: PaymentChangeLike) -> None:
    """The money arrived: the order is paid (a 409 if it expired or was cancelled meanwhile)."""
    services.mark_paid(session, change.order_id, now=utcnow(), payment_reference=change.payment_id)


def on_refunded(session: Session, change: PaymentChangeLike) -> None:
    """Money went back: the order is refunded, or partially while some of the payment remains."""
    services.mark_refunded(
        session, change.order_id, now=utcnow(), partially=change.refunded < change.amount
    )
