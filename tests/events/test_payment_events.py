"""Payment events end to end: a bank transfer's details by email in the buyer's language, and a
card declined at Stripe (real localstripe through the real SDK, its own signed
`payment_intent.payment_failed` webhook) reaching a receiver as `payment.failed`, verified with
`standardwebhooks`, and the buyer by email."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.header import decode_header, make_header
from typing import Any

import pytest
import stripe
from babel.dates import format_datetime
from sqlalchemy import update
from standardwebhooks import Webhook

from marketplace.accounts.models import User
from marketplace.i18n import parse_tag
from marketplace.money import Money
from marketplace.money.formatting import format_money
from tests.events.receiver import Receiver
from tests.events.smtp_server import Mailbox, text_of
from tests.factories import Market, make_operator
from tests.payments.conftest import localstripe, post_webhook, stripe_client, webhook_receiver
from tests.payments.localstripe_server import LocalStripe, WebhookReceiver
from tests.payments.stripe_helpers import API_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET, pay_with_card

__all__ = ["localstripe", "post_webhook", "stripe_client", "webhook_receiver"]  # fixtures


@pytest.fixture
def app_settings(
    app_settings: dict[str, Any], mailbox: tuple[str, Mailbox], localstripe: LocalStripe
) -> dict[str, Any]:
    return {
        **app_settings,
        "SMTP_URL": mailbox[0],
        "PAYMENT_GATEWAYS": "manual,stripe",
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _speaks(market: Market, locale: str) -> None:
    market.session.execute(update(User).where(User.id == market.buyer.id).values(locale=locale))
    market.session.flush()


def _money(api_money: dict[str, str], locale: str) -> str:
    return format_money(Money.of(api_money["amount"], api_money["currency"]), locale)


@pytest.mark.parametrize(
    ("locale", "subject", "beneficiary", "reference"),
    [
        ("ru", "Реквизиты для банковского перевода", "Получатель: ", "Назначение платежа: "),
        ("zh-Hans", "银行转账信息", "收款人：", "付款附言："),
    ],
)
def test_a_bank_transfer_chosen_brings_the_account_reference_amount_and_deadline_by_email(
    market: Market,
    mailbox: tuple[str, Mailbox],
    locale: str,
    subject: str,
    beneficiary: str,
    reference: str,
) -> None:
    _url, box = mailbox
    _speaks(market, locale)
    order = market.placed((market.tea, 2), (market.carpet, 1))
    started = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "manual"}, as_=market.buyer
    )
    assert started.status_code == 201, started.get_json()
    instructions = started.get_json()["instructions"]

    _placed, details = box.to(market.buyer.email)
    assert order["number"] in _subject(details) and subject in _subject(details)
    text = text_of(details)
    # Exactly what the API answered: the configured account, the order number, amount, due date.
    assert beneficiary + instructions["beneficiary"] in text
    for field in ("bank_name", "iban", "swift_bic"):
        assert instructions[field] in text, (field, text)
    assert reference + instructions["reference"] in text
    assert instructions["reference"] == order["number"]
    assert _money(instructions["amount"], locale) in text
    assert instructions["amount"] == order["totals"]["grand_total"]
    due = dt.datetime.fromisoformat(instructions["due_at"])
    where = parse_tag(locale)
    assert where is not None
    assert format_datetime(due, "medium", tzinfo=dt.UTC, locale=where) + " UTC" in text
    assert "account_number" not in instructions  # the demo account has an IBAN only

    # Captured: nothing more to wire, and the next email is the confirmation.
    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    paid_id = started.get_json()["id"]
    assert market.api.post(f"/payments/{paid_id}/capture", as_=operator).status_code == 200
    assert len(box.to(market.buyer.email)) == 3
    listed = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert "instructions" not in listed[0]


def test_a_card_declined_at_stripe_reaches_the_receiver_as_payment_failed_and_the_buyer(
    market: Market,
    receiver: Receiver,
    mailbox: tuple[str, Mailbox],
    stripe_client: stripe.StripeClient,
    webhook_receiver: WebhookReceiver,
    post_webhook: Callable[..., Any],
) -> None:
    _url, box = mailbox
    _speaks(market, "ru")
    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    endpoint = market.api.post(
        "/webhook-endpoints",
        json={"url": receiver.url, "events": ["payment.failed"]},
        as_=operator,
    ).get_json()
    order = market.placed((market.tea, 1))
    started = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "stripe"}, as_=market.buyer
    ).get_json()
    intent = started["client_secret"].split("_secret_")[0]

    # The storefront's Stripe.js confirms with a card the issuer declines (real localstripe).
    with pytest.raises(stripe.CardError):
        pay_with_card(stripe_client, intent, number="4000000000000341")
    signed = webhook_receiver.wait_for(intent, '"payment_intent.payment_failed"')
    applied = post_webhook(signed.body, signed.signature)
    assert applied.status_code == 200 and applied.get_json()["outcome"] == "applied"

    (delivery,) = receiver.wait_for(1)
    event = Webhook(endpoint["secret"]).verify(delivery.body, delivery.headers)
    assert event["type"] == "payment.failed" and delivery.headers["webhook-id"] == event["id"]
    payments = market.api.get(f"/orders/{order['id']}/payments", as_=market.buyer).get_json()
    assert event["data"] == payments[0]  # the payment as the API serves it
    assert event["data"]["id"] == started["id"] and event["data"]["status"] == "failed"
    # The order still awaits payment: the buyer may try another card.
    assert market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()["status"] == (
        "pending_payment"
    )

    failed = box.to(market.buyer.email)[-1]
    assert order["number"] in _subject(failed) and "не прошла" in _subject(failed)
    text = text_of(failed)
    assert _money(started["amount"], "ru") in text and "card_declined" in text
    assert "другой картой" in text
