"""Payment fixtures: real localstripe on 127.0.0.1, the real SDK pointed at it, signed webhooks."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
import stripe
from flask import Flask
from sqlalchemy.orm import Session

from config import load_settings
from marketplace.accounts.models import OrganisationKind, User
from marketplace.accounts.services import create_organisation
from marketplace.db import utcnow
from marketplace.orders.models import Order, Shipment
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import WebhookAction
from marketplace.payments.services import PaymentChange
from tests.payments.localstripe_server import LocalStripe, WebhookReceiver, start_localstripe

API_KEY = "sk_test_localstripe"
WEBHOOK_SECRET = "whsec_test_silk_road"
PUBLISHABLE_KEY = "pk_test_localstripe"


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
    counter = iter(range(1, 10_000))

    def make(currency: str = "EUR", name: str = "Bukhara Silk") -> str:
        n = next(counter)
        owner = User(
            email=f"seller{n}-{time.time_ns()}@example.test",
            email_key=f"seller{n}-{time.time_ns()}@example.test",
            password_hash="x",
            name="Owner",
        )
        session.add(owner)
        session.flush()
        seller = create_organisation(
            session,
            owner,
            OrganisationKind.SELLER,
            {
                "name": name,
                "country": "UZ",
                "address": {"line1": "1 Road", "city": "Bukhara", "country": "UZ"},
                "currency": currency,
                "locale": "ru",
            },
        )
        return seller.id

    return make


def make_order(
    session: Session, currency: str = "EUR", shares: Sequence[tuple[str, int]] = ()
) -> tuple[str, list[str]]:
    """An order row with one shipment per (seller, amount in minor units), for tests below the HTTP API.

    The ledger and payment tables point at real orders and shipments; the full checkout is
    exercised by the flow tests, these rows only have to exist.
    """
    stamp = time.time_ns()
    buyer = User(
        email=f"buyer-{stamp}@example.test",
        email_key=f"buyer-{stamp}@example.test",
        password_hash="x",
        name="Buyer",
    )
    session.add(buyer)
    session.flush()
    total = sum(units for _seller, units in shares)
    order = Order(
        number=f"T-{stamp}"[-20:],
        buyer_id=buyer.id,
        status="pending_payment",
        currency=currency,
        incoterm="DAP",
        ship_to={"country": "KZ"},
        ship_to_country="KZ",
        goods_minor=total,
        shipping_minor=0,
        duties_minor=0,
        taxes_minor=0,
        grand_total_minor=total,
        expires_at=utcnow() + dt.timedelta(hours=1),
    )
    session.add(order)
    session.flush()
    shipments = []
    for position, (seller_id, units) in enumerate(shares):
        shipment = Shipment(
            order_id=order.id,
            position=position,
            number=f"T{stamp}-{position}"[-24:],
            seller_id=seller_id,
            incoterm="DAP",
            from_country="UZ",
            to_country="KZ",
            weight_grams=100,
            currency=currency,
            goods_minor=units,
            shipping_minor=0,
            duties_minor=0,
            taxes_minor=0,
            collected_minor=0,
            seller_currency=currency,
            goods_seller_minor=units,
            shipping_seller_minor=0,
        )
        session.add(shipment)
        session.flush()
        shipments.append(shipment.id)
    return order.id, shipments


@pytest.fixture
def order_id(session: Session) -> Callable[..., str]:
    """A new order's id (no shipments), for payments that only need an order to belong to."""
    return lambda currency="EUR": make_order(session, currency)[0]


@pytest.fixture
def shipment_of(session: Session) -> Callable[[str], str]:
    """A new shipment of the seller (in an order of its own), for ledger entries to point at."""
    return lambda seller_id: make_order(session, "EUR", [(seller_id, 100)])[1][0]
