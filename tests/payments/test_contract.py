"""One contract, every gateway: Stripe (the real SDK against real localstripe) and manual transfer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from marketplace.money import Money
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import (
    CapturePayment,
    CreatePayment,
    PaymentGateway,
    PaymentStatus,
    RefundPayment,
    WebhookRequest,
    WebhookSignatureInvalid,
)
from tests.payments.stripe_helpers import pay_with_card

Buyer = Callable[[str], None]


@pytest.fixture(params=["manual", "stripe"])
def gateway_and_buyer(
    request: pytest.FixtureRequest,
    manual_gateway: ManualGateway,
    stripe_gateway: StripeGateway,
    stripe_client: stripe.StripeClient,
) -> tuple[PaymentGateway, Buyer]:
    """The gateway, and what the buyer does to pay through it."""
    if request.param == "manual":
        return manual_gateway, lambda reference: None  # the buyer wires money; nothing to call
    return stripe_gateway, lambda reference: pay_with_card(stripe_client, reference)


def test_every_gateway_keeps_the_payment_gateway_contract(
    gateway_and_buyer: tuple[PaymentGateway, Buyer],
) -> None:
    gateway, buyer_pays = gateway_and_buyer
    assert isinstance(gateway, PaymentGateway)
    assert gateway.supports_currency("EUR") and gateway.supports_currency("JPY")

    amount = Money.of("25.00", "EUR")
    created = gateway.create_payment(
        CreatePayment(amount=amount, idempotency_key="contract-1", metadata={"order_id": "o-1"})
    )
    assert created.reference
    assert created.status in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)
    assert created.amount == amount

    buyer_pays(created.reference)
    captured = gateway.capture_payment(
        CapturePayment(reference=created.reference, amount=amount, idempotency_key="cap-1")
    )
    assert (captured.reference, captured.status, captured.amount) == (
        created.reference,
        PaymentStatus.SUCCEEDED,
        amount,
    )

    refund = gateway.refund_payment(
        RefundPayment(
            reference=created.reference,
            amount=Money.of("10.00", "EUR"),
            reason="late",
            idempotency_key="r-1",
        )
    )
    assert refund.reference and refund.payment_reference == created.reference
    assert refund.amount == Money.of("10.00", "EUR")
    assert refund.status is PaymentStatus.SUCCEEDED

    with pytest.raises(WebhookSignatureInvalid):
        gateway.parse_webhook(WebhookRequest(payload=b'{"id": "evt_1"}', signature="t=1,v1=forged"))
