"""Stripe through the official SDK: PaymentIntents, refunds, Connect transfers, signed webhooks.

Stripe objects never leave this module: every answer is read defensively (fields may be absent,
`latest_charge` may be an id or an object, as in older API versions) and turned into our dataclasses.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe

from marketplace.i18n import _
from marketplace.money import Money, minor_units
from marketplace.payments.gateway import (
    CapturePayment,
    CreatePayment,
    CurrencyNotSupported,
    GatewayError,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
    RefundPayment,
    RefundResult,
    TransferResult,
    TransferToSeller,
    WebhookAction,
    WebhookEvent,
    WebhookRequest,
    WebhookSignatureInvalid,
)

# Stripe's presentment currencies and amount rules, from https://docs.stripe.com/currencies
# (checked 2026-11-28). Currencies absent here (IRR, KPW, SYP, CUP, SDG, VES, IQD, LYD, ...) are
# refused before any call.


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


ZERO_DECIMAL = _codes("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF")
THREE_DECIMAL = _codes("BHD JOD KWD OMR TND")
# ISK has no minor unit in ISO 4217, but Stripe still wants it written with two decimals (always 00).
TWO_DECIMAL_ALWAYS_ZERO = frozenset({"ISK"})
SUPPORTED_CURRENCIES = (
    ZERO_DECIMAL
    | THREE_DECIMAL
    | TWO_DECIMAL_ALWAYS_ZERO
    | _codes(
        """USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BWP BYN BZD
    CAD CDF CHF CNY COP CRC CVE CZK DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD GTQ GYD HKD
    HNL HTG HUF IDR ILS INR JMD KES KGS KHR KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT MOP
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR
    SBD SCR SEK SGD SHP SLE SOS SRD SZL THB TJS TOP TRY TTD TWD TZS UAH UYU UZS WST XCD XCG YER
    ZAR ZMW"""
    )
)

_PAYMENT_INTENT_STATUS = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.PENDING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELLED,
}

_REFUND_STATUS = {
    "pending": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "succeeded": PaymentStatus.SUCCEEDED,
    "failed": PaymentStatus.FAILED,
    "canceled": PaymentStatus.CANCELLED,
}

_ACTIONS = {
    "payment_intent.succeeded": WebhookAction.PAYMENT_SUCCEEDED,
    "payment_intent.payment_failed": WebhookAction.PAYMENT_FAILED,
    "charge.refunded": WebhookAction.REFUNDED,
}


def _stripe_exponent(currency: str) -> int:
    if currency not in SUPPORTED_CURRENCIES:
        raise CurrencyNotSupported(
            _("Card payments are not available in %(currency)s.", currency=currency),
            errors={
                "currency": [
                    _("Card payments are not available in %(currency)s.", currency=currency)
                ]
            },
        )
    if currency in ZERO_DECIMAL:
        return 0
    if currency in TWO_DECIMAL_ALWAYS_ZERO:
        return 2
    return minor_units(currency)


def to_stripe_amount(money: Money) -> int:
    """The integer Stripe expects for an amount: the one place amounts cross to the gateway.

    Zero-decimal currencies are whole units (an ISO two-decimal MGA amount is rounded to a whole
    ariary); three-decimal currencies are thousandths whose last digit must be 0, so they are
    rounded half-up to the nearest ten (12.345 KWD -> 12350, 12.344 -> 12340), never up.
    """
    exponent = _stripe_exponent(money.currency)
    if money.currency in THREE_DECIMAL:
        tens = money.amount.scaleb(exponent - 1).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return int(tens) * 10
    return int(money.amount.scaleb(exponent).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_stripe_amount(units: int, currency: str) -> Money:
    """An amount Stripe reports, back in our Money (exact: Stripe's units are never finer than ISO's)."""
    code = currency.upper()
    return Money(Decimal(units).scaleb(-_stripe_exponent(code)), code).quantize()


def _get(obj: Any, key: str) -> Any:
    """A field of a Stripe object or plain dict, or None when this API version leaves it out."""
    if obj is None:
        return None
    try:
        return obj[key]
    except (KeyError, TypeError, IndexError):
        return getattr(obj, key, None)


def _id_of(value: Any) -> str | None:
    """An expandable field's id, whether Stripe sent the id or the whole object."""
    if value is None or isinstance(value, str):
        return value
    found = _get(value, "id")
    return found if isinstance(found, str) else None


def _metadata(values: Mapping[str, str]) -> dict[str, str]:
    return {str(key)[:40]: str(value)[:500] for key, value in values.items()}


class StripeGateway:
    """PaymentIntents in the order currency; the client secret goes to the storefront's Stripe.js."""

    name = "stripe"
    kind = PaymentKind.CARD

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        webhook_secret: str,
        webhook_tolerance: int,
        publishable_key: str | None = None,
    ) -> None:
        self._client = client
        self._webhook_secret = webhook_secret
        self._tolerance = webhook_tolerance
        self._publishable_key = publishable_key or None

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> StripeGateway:
        base = settings.get("STRIPE_API_BASE") or ""
        client = stripe.StripeClient(
            settings.get("STRIPE_API_KEY") or "",
            base_addresses={"api": base} if base else None,
            max_network_retries=2,
        )
        return cls(
            client,
            webhook_secret=settings.get("STRIPE_WEBHOOK_SECRET") or "",
            webhook_tolerance=int(settings.get("STRIPE_WEBHOOK_TOLERANCE") or 300),
            publishable_key=settings.get("STRIPE_PUBLISHABLE_KEY") or None,
        )

    def currencies(self) -> frozenset[str]:
        return SUPPORTED_CURRENCIES

    def supports_currency(self, currency: str) -> bool:
        return currency in SUPPORTED_CURRENCIES

    def create_payment(self, request: CreatePayment) -> PaymentResult:
        amount = to_stripe_amount(request.amount)
        params: Any = {
            "amount": amount,
            "currency": request.amount.currency.lower(),
            "metadata": _metadata(request.metadata),
        }
        intent = self._call(
            self._client.v1.payment_intents.create,
            params,
            options={"idempotency_key": request.idempotency_key},
        )
        return self._payment_result(intent)

    def capture_payment(self, request: CapturePayment) -> PaymentResult:
        """Capture an authorised PaymentIntent; one that is already captured is returned as it is."""
        intent = self._call(self._client.v1.payment_intents.retrieve, request.reference)
        if _get(intent, "status") == "requires_capture":
            params: Any = {"amount_to_capture": to_stripe_amount(request.amount)}
            intent = self._call(
                self._client.v1.payment_intents.capture,
                request.reference,
                params,
                options={"idempotency_key": request.idempotency_key},
            )
        return self._payment_result(intent)

    def refund_payment(self, request: RefundPayment) -> RefundResult:
        params: Any = {
            "payment_intent": request.reference,
            "amount": to_stripe_amount(request.amount),
            # Stripe's own `reason` is a closed list; ours is free text for people.
            "metadata": _metadata({"reason": request.reason}),
        }
        refund = self._call(
            self._client.v1.refunds.create,
            params,
            options={"idempotency_key": request.idempotency_key},
        )
        currency = str(_get(refund, "currency") or request.amount.currency)
        return RefundResult(
            reference=str(_get(refund, "id")),
            payment_reference=_id_of(_get(refund, "payment_intent")) or request.reference,
            amount=from_stripe_amount(int(_get(refund, "amount") or 0), currency),
            status=_REFUND_STATUS.get(str(_get(refund, "status")), PaymentStatus.PENDING),
        )

    def transfer_to_seller(self, request: TransferToSeller) -> TransferResult:
        params: Any = {
            "amount": to_stripe_amount(request.amount),
            "currency": request.amount.currency.lower(),
            "destination": request.destination_account,
            "metadata": _metadata(request.metadata),
        }
        transfer = self._call(
            self._client.v1.transfers.create,
            params,
            options={"idempotency_key": request.idempotency_key},
        )
        currency = str(_get(transfer, "currency") or request.amount.currency)
        return TransferResult(
            reference=str(_get(transfer, "id")),
            amount=from_stripe_amount(int(_get(transfer, "amount") or 0), currency),
        )

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent:
        """Verify the signature over the raw body (secret and tolerance from settings), then map it."""
        try:
            self._client.construct_event(
                request.payload, request.signature, self._webhook_secret, self._tolerance
            )
            event = json.loads(request.payload)
        except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
            raise WebhookSignatureInvalid() from exc
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            raise WebhookSignatureInvalid()
        event_type = str(event.get("type") or "")
        action = _ACTIONS.get(event_type, WebhookAction.IGNORED)
        data = _get(event.get("data"), "object")
        created = event.get("created")
        occurred_at = (
            dt.datetime.fromtimestamp(created, dt.UTC)
            if isinstance(created, int)
            else dt.datetime.now(dt.UTC)
        )
        reference = amount = failure = None
        try:
            if action in (WebhookAction.PAYMENT_SUCCEEDED, WebhookAction.PAYMENT_FAILED):
                reference = _id_of(data)
                units = _get(data, "amount_received") or _get(data, "amount")
                amount = (
                    from_stripe_amount(int(units), str(_get(data, "currency"))) if units else None
                )
                failure = _get(_get(data, "last_payment_error"), "code")
            elif action is WebhookAction.REFUNDED:
                reference = _id_of(_get(data, "payment_intent"))
                refunded = _get(data, "amount_refunded")
                if refunded is not None:
                    amount = from_stripe_amount(int(refunded), str(_get(data, "currency")))
        except (TypeError, ValueError, CurrencyNotSupported):
            action = WebhookAction.IGNORED
        return WebhookEvent(
            event_id=event["id"],
            event_type=event_type,
            action=action,
            occurred_at=occurred_at,
            payment_reference=reference,
            amount=amount,
            failure_code=str(failure) if failure else None,
        )

    def _payment_result(self, intent: Any) -> PaymentResult:
        status = _PAYMENT_INTENT_STATUS.get(str(_get(intent, "status")), PaymentStatus.PENDING)
        if status is PaymentStatus.PENDING and _get(intent, "last_payment_error"):
            status = PaymentStatus.FAILED
        return PaymentResult(
            reference=str(_get(intent, "id")),
            status=status,
            amount=from_stripe_amount(
                int(_get(intent, "amount") or 0), str(_get(intent, "currency"))
            ),
            client_secret=_get(intent, "client_secret"),
            publishable_key=self._publishable_key,
        )

    @staticmethod
    def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except stripe.StripeError as exc:
            raise GatewayError(extra={"gateway_code": exc.code} if exc.code else None) from exc
