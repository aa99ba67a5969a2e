"""What a storefront and Stripe do around a payment, made with the real SDK against localstripe."""

from __future__ import annotations

import json
import time
from typing import Any

import stripe

API_KEY = "sk_test_localstripe"
WEBHOOK_SECRET = "whsec_test_silk_road"
PUBLISHABLE_KEY = "pk_test_localstripe"


def pay_with_card(
    client: stripe.StripeClient, payment_intent: str, number: str = "4242424242424242"
) -> None:
    """What the storefront's Stripe.js would do: attach a card and confirm (against localstripe)."""
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }  # type: ignore[typeddict-item]
    )
    client.v1.payment_intents.update(payment_intent, params={"payment_method": method.id})
    client.v1.payment_intents.confirm(payment_intent)


def signed_event(
    event_type: str,
    data_object: dict[str, Any],
    *,
    event_id: str | None = None,
    timestamp: int | None = None,
    secret: str = WEBHOOK_SECRET,
) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature made with the SDK's own signing code.

    Used where localstripe sends nothing (charge.refunded, retries, duplicates, unknown types).
    """
    created = int(time.time()) if timestamp is None else timestamp
    event = {
        "id": event_id or f"evt_ours_{time.time_ns()}",
        "object": "event",
        "type": event_type,
        "created": created,
        "api_version": "2017-08-15",
        "data": {"object": data_object},
    }
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=created)
    return body.encode(), header
