"""Who hears about payment changes: one listener per action, wired into the app at start.

The payments package records every change itself; what a change means elsewhere (an order paid,
a shipment refunded, ledger entries) belongs to the package that owns it, which adds its listener
to this mapping. An action without a listener is stored with outcome `unhandled`, never lost.
"""

from __future__ import annotations

from marketplace.payments.gateway import WebhookAction
from marketplace.payments.services import PaymentListener


def payment_listeners() -> dict[WebhookAction, PaymentListener]:
    """The listeners the application runs with, by action."""
    listeners: dict[WebhookAction, PaymentListener] = {}
    return listeners
