"""Payment services the orders integration calls: choosing a gateway, starting, replaying events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from marketplace.errors import Conflict
from marketplace.money import Money
from marketplace.payments import services
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import (
    CurrencyNotSupported,
    PaymentGateway,
    UnknownGateway,
    WebhookAction,
    WebhookEvent,
)
from marketplace.payments.models import WebhookOutcome


def test_a_gateway_is_chosen_by_name_and_must_take_the_order_currency(
    manual_gateway: ManualGateway, stripe_gateway: StripeGateway
) -> None:
    gateways: dict[str, PaymentGateway] = {"manual": manual_gateway, "stripe": stripe_gateway}
    assert services.choose_gateway(gateways, "stripe", "KZT") is stripe_gateway
    assert (
        services.choose_gateway(gateways, "manual", "IRR") is manual_gateway
    )  # a bank takes any currency
    with pytest.raises(CurrencyNotSupported) as refused:
        services.choose_gateway(gateways, "stripe", "IRR")
    assert refused.value.status == 422 and "currency" in refused.value.errors
    with pytest.raises(UnknownGateway):
        services.choose_gateway(gateways, "paypal", "EUR")


def test_starting_a_payment_twice_with_one_key_records_it_once(
    session: Session, manual_gateway: ManualGateway, order_id: Callable[..., str]
) -> None:
    amount = Money.of("12.000", "BHD")
    o1, o2 = order_id("BHD"), order_id("BHD")
    first = services.start_payment(
        session, manual_gateway, order_id=o1, amount=amount, idempotency_key="k-1"
    )
    again = services.start_payment(
        session, manual_gateway, order_id=o1, amount=amount, idempotency_key="k-1"
    )
    assert again.payment.id == first.payment.id
    assert [p.id for p in services.payments_of_order(session, o1)] == [first.payment.id]
    with pytest.raises(Conflict):
        services.start_payment(
            session, manual_gateway, order_id=o2, amount=amount, idempotency_key="k-1"
        )


def test_an_event_without_a_listener_is_kept_as_unhandled(
    session: Session, manual_gateway: ManualGateway, order_id: Callable[..., str]
) -> None:
    started = services.start_payment(
        session,
        manual_gateway,
        order_id=order_id(),
        amount=Money.of("5.00", "EUR"),
        idempotency_key="k-3",
    )
    event = WebhookEvent(
        event_id="evt_no_listener",
        event_type="payment_intent.succeeded",
        action=WebhookAction.PAYMENT_SUCCEEDED,
        occurred_at=dt.datetime.now(dt.UTC),
        payment_reference=started.payment.reference,
        amount=Money.of("5.00", "EUR"),
    )
    assert services.apply_webhook_event(session, "manual", event, {}) is WebhookOutcome.UNHANDLED
    assert services.apply_webhook_event(session, "manual", event, {}) is WebhookOutcome.DUPLICATE
    assert [e.event_id for e in services.unhandled_events(session, "manual")] == ["evt_no_listener"]
