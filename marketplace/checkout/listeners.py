"""Who hears about payment changes: one listener per action, wired into the app at start.

The payments package records every change itself; what a change means elsewhere belongs to the
package that owns it: the orders package marks the order paid or refunded
(`marketplace.checkout.payment_events`), and the sellers' ledger records each shipment's sale or
refund (`order_payments.record_sales`/`record_refunds`). Both run in the same transaction as the
change, so a webhook or a capture is applied wholly or not at all. An action without a listener
is stored with outcome `unhandled`, never lost.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from marketplace.checkout import payment_events
from marketplace.payments import order_payments
from marketplace.payments.gateway import PaymentGateway, WebhookAction
from marketplace.payments.services import PaymentChange, PaymentListener


def payment_listeners(
    commission_bps: int, gateways: Mapping[str, PaymentGateway]
) -> dict[WebhookAction, PaymentListener]:
    """The listeners the application runs with, by action; commission in basis points.

    Money that arrives for an order already paid by another payment, expired or cancelled is
    refunded in full at once rather than refused: refusing a webhook only makes Stripe retry it.
    """

    def succeeded(session: Session, change: PaymentChange) -> None:
        if order_payments.no_longer_payable(session, change):
            order_payments.refund_unwanted(session, change, gateways)
            return
        payment_events.on_payment_succeeded(session, change)
        order_payments.record_sales(session, change, commission_bps)

    def refunded(session: Session, change: PaymentChange) -> None:
        payment_events.on_refunded(session, change)
        order_payments.record_refunds(session, change, commission_bps)

    return {
        WebhookAction.PAYMENT_SUCCEEDED: succeeded,
        WebhookAction.PAYMENT_FAILED: order_payments.record_failure,
        WebhookAction.REFUNDED: refunded,
    }
