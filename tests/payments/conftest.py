"""Payment fixtures: real localstripe on 127.0.0.1, the real SDK pointed at it, signed webhooks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from flask import Flask
from sqlalchemy.orm import Session

from config import load_settings
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import WebhookAction
from marketplace.payments.services import PaymentChange
from tests.factories import make_order, make_seller
from tests.payments.localstripe_server import LocalStripe, WebhookReceiver, start_localstripe
from tests.payments.stripe_helpers import API_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET


@pytest.fixture(scope="session")
def localstripe() -> Iterator[LocalStripe]:
    server = start_localstripe()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def webhook_receiver(localstripe: LocalStripe) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    localstripe.register_webhook("silk-road-tests", receiver.url, WEBHOOK_SECRET)
    yield receiver
    receiver.stop()


@pytest.fixture
def app_settings(app_settings: dict[str, Any], localstripe: LocalStripe) -> dict[str, Any]:
    return {
        **app_settings,
        "PAYMENT_GATEWAYS": "manual,stripe",
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_WEBHOOK_TOLERANCE": 300,
    }


@pytest.fixture
def stripe_client(localstripe: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe.url})


@pytest.fixture
def stripe_gateway(stripe_client: stripe.StripeClient) -> StripeGateway:
    return StripeGateway(stripe_client, webhook_secret=WEBHOOK_SECRET, webhook_tolerance=300)


@pytest.fixture
def manual_gateway() -> ManualGateway:
    return ManualGateway.from_settings(load_settings({}, {"APP_ENV": "test"}))


@pytest.fixture
def heard(app: Flask) -> list[PaymentChange]:
    """Register a listener for every action on the app, standing in for the orders package."""
    changes: list[PaymentChange] = []
    listeners = app.extensions["marketplace"]["payment_listeners"]
    for action in (
        WebhookAction.PAYMENT_SUCCEEDED,
        WebhookAction.PAYMENT_FAILED,
        WebhookAction.REFUNDED,
    ):
        listeners[action] = lambda session, change: changes.append(change)
    return changes


@pytest.fixture
def post_webhook(client: Any) -> Callable[..., Any]:
    def post(body: bytes, signature: str | None) -> Any:
        headers = {"Stripe-Signature": signature} if signature is not None else {}
        return client.post(
            "/api/v1/webhooks/stripe",
            data=body,
            headers=headers,
            content_type="application/json; charset=utf-8",
        )

    return post


@pytest.fixture
def seller_factory(session: Session) -> Callable[..., str]:
    """A seller organisation (and its owner) made through the accounts service; returns its id."""
    return lambda currency="EUR", name="Bukhara Silk": make_seller(session, currency, name)


@pytest.fixture
def order_id(session: Session) -> Callable[..., str]:
    """A new order's id (no shipments), for payments that only need an order to belong to."""
    return lambda currency="EUR": make_order(session, currency)[0]


@pytest.fixture
def shipment_of(session: Session) -> Callable[[str], str]:
    """A new shipment of the seller (in an order of its own), for ledger entries to point at."""
    return lambda seller_id: make_order(session, "EUR", [(seller_id, 100)])[1][0]
