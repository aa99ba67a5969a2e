"""The demo paid order's bank transfer, captured, with its sellers' ledger entries.

The orders demo marks its order paid directly (reference "demo"); this step records the payment
that would have paid it and writes the sales through the same ledger code the listeners use, so
the demo sellers' balances are not empty. Loading twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.money import Money
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import order_payments, services
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.gateway import WebhookAction
from marketplace.payments.models import Payment
from marketplace.payments.services import PaymentChange

DEMO_REFERENCE = "demo"  # what marketplace/demo/orders.py marks its order paid with


def load(session: Session, settings: dict[str, Any]) -> str:
    order = session.scalar(
        select(Order).where(
            Order.payment_reference == DEMO_REFERENCE, Order.status == OrderStatus.PAID
        )
    )
    if order is None:
        return "payments: no paid demo order"
    if session.scalar(select(Payment.id).where(Payment.order_id == order.id).limit(1)) is not None:
        return f"payments: demo order {order.number} already has its payment"
    gateway = ManualGateway.from_settings(settings)
    started = services.start_payment(
        session,
        gateway,
        order_id=order.id,
        amount=Money.from_minor(order.grand_total_minor, order.currency),
        idempotency_key=f"demo:{order.id}",
    )
    commission_bps = int(settings["PLATFORM_COMMISSION_BPS"])

    # The order is already paid: only the ledger hears about the capture.
    def record(session: Session, change: PaymentChange) -> None:
        order_payments.record_sales(session, change, commission_bps)

    services.capture_payment(
        session, gateway, started.payment.id, {WebhookAction.PAYMENT_SUCCEEDED: record}
    )
    return f"payments: bank transfer {started.payment.reference} captured for demo order {order.number}"
