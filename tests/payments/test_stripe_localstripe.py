"""The Stripe adapter through the real SDK against real localstripe (started by the fixture).

Each test says what is real localstripe and what is ours: localstripe sends
payment_intent.succeeded / payment_failed webhooks itself; refund events, retries and
duplicates are payloads we sign with the SDK's own signing code; Connect is our own fake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, Invalid
from marketplace.money import Money
from marketplace.payments import ledger, services
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import CurrencyNotSupported, PaymentStatus, WebhookAction
from marketplace.payments.models import Payment, PaymentRefund, WebhookEventRecord
from marketplace.payments.services import PaymentChange
from tests.factories import make_order
from tests.helpers import assert_problem
from tests.payments.localstripe_server import LocalStripe, WebhookReceiver
from tests.payments.stripe_helpers import pay_with_card, signed_event


def _start(
    session: Session, gateway: StripeGateway, amount: str, currency: str
) -> services.StartedPayment:
    return services.start_payment(
        session,
        gateway,
        order_id=make_order(session, currency)[0],
        amount=Money.of(amount, currency),
        idempotency_key=f"test:{amount}:{currency}:{id(session)}",
    )


@pytest.mark.parametrize(
    ("amount", "currency", "stored"),
    [
        ("1500", "JPY", 1500),
        ("12.345", "KWD", 12350),
        ("12.341", "KWD", 12340),
        ("12.50", "EUR", 1250),
    ],
)
def test_amounts_reach_localstripe_in_stripe_minor_units(
    session: Session,
    stripe_gateway: StripeGateway,
    localstripe: LocalStripe,
    amount: str,
    currency: str,
    stored: int,
) -> None:
    # Real localstripe: we read the PaymentIntent exactly as it stored it.
    started = _start(session, stripe_gateway, amount, currency)
    intent = localstripe.stored("payment_intent", started.payment.reference)
    assert (intent.amount, intent.currency) == (stored, currency.lower())
    assert started.client_secret and started.client_secret.startswith(started.payment.reference)
    assert started.payment.status == PaymentStatus.PENDING
    # Our record holds what the gateway takes (KWD rounded to the ten), in ISO minor units.
    assert (started.payment.amount_minor, started.payment.currency) == (stored, currency)


def test_a_currency_stripe_refuses_never_reaches_it(
    session: Session, stripe_gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    from localstripe.resources import store

    before = len(store)
    with pytest.raises(CurrencyNotSupported):
        _start(session, stripe_gateway, "100000", "IRR")
    assert len(store) == before
    assert (
        session.scalar(select(func.count()).select_from(Payment).where(Payment.currency == "IRR"))
        == 0
    )


def test_localstripe_success_webhook_marks_the_payment_paid_once(
    session: Session,
    stripe_gateway: StripeGateway,
    stripe_client: stripe.StripeClient,
    webhook_receiver: WebhookReceiver,
    post_webhook: Callable[..., Any],
    heard: list[PaymentChange],
) -> None:
    started = _start(session, stripe_gateway, "49.90", "EUR")
    pay_with_card(stripe_client, started.payment.reference)
    # Real localstripe delivers the signed event to our receiver; we pass the exact bytes on.
    delivery = webhook_receiver.wait_for(started.payment.reference, '"payment_intent.succeeded"')

    first = post_webhook(delivery.body, delivery.signature)
    again = post_webhook(delivery.body, delivery.signature)

    assert first.status_code == 200 and first.get_json()["outcome"] == "applied"
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    session.refresh(started.payment)
    assert started.payment.status == PaymentStatus.SUCCEEDED
    assert [c.action for c in heard] == [WebhookAction.PAYMENT_SUCCEEDED]
    assert (
        heard[0].amount == Money.of("49.90", "EUR")
        and heard[0].order_id == started.payment.order_id
    )
    stored = session.scalar(
        select(func.count())
        .select_from(WebhookEventRecord)
        .where(WebhookEventRecord.event_id == first.get_json()["event_id"])
    )
    assert stored == 1


def test_a_declined_card_is_recorded_and_a_later_success_still_wins(
    session: Session,
    stripe_gateway: StripeGateway,
    stripe_client: stripe.StripeClient,
    webhook_receiver: WebhookReceiver,
    post_webhook: Callable[..., Any],
    heard: list[PaymentChange],
) -> None:
    started = _start(session, stripe_gateway, "1500", "JPY")
    with pytest.raises(stripe.CardError):
        pay_with_card(stripe_client, started.payment.reference, number="4000000000000341")
    # Real localstripe: its payment_failed webhook.
    failed = webhook_receiver.wait_for(started.payment.reference, '"payment_intent.payment_failed"')
    assert post_webhook(failed.body, failed.signature).get_json()["outcome"] == "applied"
    session.refresh(started.payment)
    assert started.payment.status == PaymentStatus.FAILED
    assert started.payment.failure_code == "card_declined"

    # Ours, signed with the SDK: the buyer's retry with another card succeeded.
    body, signature = signed_event(
        "payment_intent.succeeded",
        {
            "id": started.payment.reference,
            "object": "payment_intent",
            "amount": 1500,
            "amount_received": 1500,
            "currency": "jpy",
            "status": "succeeded",
        },
    )
    assert post_webhook(body, signature).get_json()["outcome"] == "applied"
    # Ours: the failure delivered again, late and out of order, must not undo the success.
    late_body, late_signature = signed_event(
        "payment_intent.payment_failed",
        {
            "id": started.payment.reference,
            "object": "payment_intent",
            "amount": 1500,
            "currency": "jpy",
            "last_payment_error": {"code": "card_declined"},
        },
    )
    assert post_webhook(late_body, late_signature).get_json()["outcome"] == "ignored"
    session.refresh(started.payment)
    assert started.payment.status == PaymentStatus.SUCCEEDED
    assert [c.action for c in heard] == [
        WebhookAction.PAYMENT_FAILED,
        WebhookAction.PAYMENT_SUCCEEDED,
    ]


def test_refunds_reach_localstripe_in_minor_units_and_charge_refunded_is_applied_once(
    session: Session,
    app: Any,
    stripe_gateway: StripeGateway,
    stripe_client: stripe.StripeClient,
    localstripe: LocalStripe,
    post_webhook: Callable[..., Any],
    heard: list[PaymentChange],
) -> None:
    started = _start(session, stripe_gateway, "30.000", "KWD")
    pay_with_card(stripe_client, started.payment.reference)
    listeners = app.extensions["marketplace"]["payment_listeners"]
    services.capture_payment(session, stripe_gateway, started.payment.id, listeners)
    assert started.payment.status == PaymentStatus.SUCCEEDED

    refund = services.refund_payment(
        session,
        stripe_gateway,
        payment_id=started.payment.id,
        amount=Money.of("10.005", "KWD"),
        reason="one scarf arrived torn",
        idempotency_key="refund-1",
        listeners=listeners,
    )
    # Real localstripe: the refund it stored, in Stripe's units (10.005 KWD rounded to the ten).
    # Our record holds what was really refunded, so the gateway's totals and ours agree.
    assert localstripe.stored("refund", refund.reference).amount == 10010
    assert localstripe.stored("refund", refund.reference).metadata == {
        "reason": "one scarf arrived torn"
    }
    assert started.payment.refunded_minor == refund.amount_minor == 10010
    assert started.payment.status == PaymentStatus.PARTIALLY_REFUNDED

    # localstripe sends no charge.refunded: ours, signed with the SDK, built from its charge state.
    charge = localstripe.stored(
        "charge", localstripe.stored("payment_intent", started.payment.reference).latest_charge.id
    )
    data = {
        "id": charge.id,
        "object": "charge",
        "payment_intent": started.payment.reference,
        "amount": charge.amount,
        "amount_refunded": charge.amount_refunded,
        "currency": "kwd",
    }
    body, signature = signed_event("charge.refunded", data)
    assert (
        post_webhook(body, signature).get_json()["outcome"] == "ignored"
    )  # we made it: already recorded

    # A refund made at Stripe's dashboard (directly on localstripe) reaches us only by the event.
    stripe_client.v1.refunds.create(
        params={"payment_intent": started.payment.reference, "amount": 5000}
    )
    data["amount_refunded"] = localstripe.stored("charge", charge.id).amount_refunded
    body, signature = signed_event("charge.refunded", data)
    assert post_webhook(body, signature).get_json()["outcome"] == "applied"
    assert post_webhook(body, signature).get_json()["outcome"] == "duplicate"
    session.refresh(started.payment)
    assert started.payment.refunded_minor == 10010 + 5000
    refunds = session.scalars(
        select(PaymentRefund.amount_minor).where(PaymentRefund.payment_id == started.payment.id)
    ).all()
    assert sorted(refunds) == [5000, 10010]
    assert [c.change for c in heard if c.action is WebhookAction.REFUNDED] == [
        Money.of("10.010", "KWD"),
        Money.of("5.000", "KWD"),
    ]


def test_a_refund_above_what_remains_is_a_409_and_reaches_no_gateway(
    session: Session,
    app: Any,
    stripe_gateway: StripeGateway,
    stripe_client: stripe.StripeClient,
    localstripe: LocalStripe,
) -> None:
    from localstripe.resources import store

    started = _start(session, stripe_gateway, "20.00", "EUR")
    pay_with_card(stripe_client, started.payment.reference)
    listeners = app.extensions["marketplace"]["payment_listeners"]
    services.capture_payment(session, stripe_gateway, started.payment.id, listeners)
    before = len(store)
    with pytest.raises(Conflict) as refused:
        services.refund_payment(
            session,
            stripe_gateway,
            payment_id=started.payment.id,
            amount=Money.of("20.01", "EUR"),
            reason="too much",
            idempotency_key="refund-too-much",
            listeners=listeners,
        )
    assert refused.value.error_code == "refund_exceeds_payment"
    with pytest.raises(Invalid) as wrong_currency:
        services.refund_payment(
            session,
            stripe_gateway,
            payment_id=started.payment.id,
            amount=Money.of("5.00", "USD"),
            reason="wrong currency",
            idempotency_key="refund-usd",
            listeners=listeners,
        )
    assert wrong_currency.value.error_code == "refund_currency_mismatch"
    assert len(store) == before


def test_connect_payout_goes_through_our_fake_connect_endpoint(
    session: Session,
    stripe_gateway: StripeGateway,
    localstripe: LocalStripe,
    seller_factory: Callable[..., str],
) -> None:
    # localstripe has no Connect: /v1/transfers here is OUR fake, reached through the real SDK.
    seller_id = seller_factory("EUR")
    ledger.record_sale(
        session,
        seller_id=seller_id,
        amount=Money.of("100.00", "EUR"),
        commission_bps=800,
        shipment_id=make_order(session, "EUR", [(seller_id, 100)])[1][0],
    )
    with pytest.raises(Conflict):
        ledger.pay_out_by_connect(
            session, stripe_gateway, seller_id=seller_id, amount=Money.of("10.00", "EUR")
        )
    ledger.set_stripe_account(session, seller_id, "acct_fake_seller")

    payout = ledger.pay_out_by_connect(
        session, stripe_gateway, seller_id=seller_id, amount=Money.of("92.00", "EUR")
    )

    sent = localstripe.connect.requests[-1]
    assert sent["data"]["amount"] == "9200" and sent["data"]["currency"] == "eur"
    assert sent["data"]["destination"] == "acct_fake_seller"
    assert sent["idempotency_key"] == f"payout:{payout.id}"
    assert payout.reference and payout.reference.startswith("tr_fake_")
    assert ledger.seller_balance(session, seller_id).payable == Money.of("0.00", "EUR")


def test_http_webhook_refuses_unsigned_tampered_and_old_events(
    session: Session,
    post_webhook: Callable[..., Any],
) -> None:
    # Ours, signed with the SDK: a valid event, then broken copies of it.
    data = {"id": "pi_unknown", "object": "payment_intent", "amount": 100, "currency": "eur"}
    body, signature = signed_event("payment_intent.succeeded", data, event_id="evt_ours_tamper")
    tampered = body.replace(b'"amount": 100', b'"amount": 1')
    old_body, old_signature = signed_event(
        "payment_intent.succeeded", data, event_id="evt_ours_old", timestamp=1_600_000_000
    )
    _, other_secret = signed_event(
        "payment_intent.succeeded", data, event_id="evt_ours_tamper", secret="whsec_other"
    )

    for bad_body, bad_signature in (
        (tampered, signature),
        (old_body, old_signature),
        (body, None),
        (body, "t=1,v1=abc"),
        (body, other_secret),
        (
            b"not json",
            stripe.WebhookSignature.generate_signature_header("not json", "whsec_test_silk_road"),
        ),
    ):
        assert_problem(post_webhook(bad_body, bad_signature), 400, "webhook_signature_invalid")
    assert session.scalar(select(func.count()).select_from(WebhookEventRecord)) == 0


def test_unknown_event_types_and_payments_are_acknowledged_and_stored(
    session: Session,
    post_webhook: Callable[..., Any],
) -> None:
    # Ours, signed with the SDK.
    body, signature = signed_event(
        "customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_ours_cus"
    )
    answer = post_webhook(body, signature)
    assert answer.status_code == 200 and answer.get_json() == {
        "received": True,
        "event_id": "evt_ours_cus",
        "outcome": "ignored",
    }
    body, signature = signed_event(
        "payment_intent.succeeded",
        {"id": "pi_not_ours", "amount": 100, "currency": "eur"},
        event_id="evt_ours_pi",
    )
    assert post_webhook(body, signature).get_json()["outcome"] == "unmatched"
    outcomes = dict(
        session.execute(select(WebhookEventRecord.event_id, WebhookEventRecord.outcome)).all()
    )
    assert outcomes == {"evt_ours_cus": "ignored", "evt_ours_pi": "unmatched"}
