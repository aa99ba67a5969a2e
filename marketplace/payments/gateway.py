"""The payment-gateway interface, in our own vocabulary.

Every gateway (Stripe, manual bank transfer) answers with these dataclasses and enums, so nothing
provider-shaped leaks past its adapter. Each method takes one input object: adding a field later
does not change every call site.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from marketplace.errors import Conflict, DomainError, Invalid
from marketplace.i18n import _
from marketplace.money import Money


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    CANCELLED = "cancelled"


class WebhookAction(enum.StrEnum):
    """What a gateway event means to us; every other event type is IGNORED (and acknowledged)."""

    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    REFUNDED = "refunded"
    IGNORED = "ignored"


class PaymentKind(enum.StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"


@dataclass(frozen=True, slots=True)
class BankAccount:
    """Where buyers wire money: the platform's account for one currency (from configuration)."""

    beneficiary: str
    bank_name: str
    iban: str | None = None
    account_number: str | None = None
    swift_bic: str | None = None


@dataclass(frozen=True, slots=True)
class TransferInstructions:
    """What the buyer needs at their bank: the account, what to quote, how much, and by when."""

    account: BankAccount
    reference: str
    amount: Money
    due_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CreatePayment:
    """`reference` is what the buyer quotes on a transfer (the order number)."""

    amount: Money
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    reference: str = ""
    requested_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class CapturePayment:
    """Take `amount` (at most what was authorised) of a payment the buyer has made."""

    reference: str
    amount: Money
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RefundPayment:
    reference: str
    amount: Money
    reason: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """The request exactly as received: the signature covers the raw bytes, not parsed JSON."""

    payload: bytes
    signature: str | None


@dataclass(frozen=True, slots=True)
class PaymentResult:
    reference: str
    status: PaymentStatus
    amount: Money
    client_secret: str | None = None
    publishable_key: str | None = None
    instructions: TransferInstructions | None = None


@dataclass(frozen=True, slots=True)
class RefundResult:
    reference: str
    payment_reference: str
    amount: Money
    status: PaymentStatus


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified gateway event. `amount` is the paid amount, or for REFUNDED the total refunded so far."""

    event_id: str
    event_type: str
    action: WebhookAction
    occurred_at: dt.datetime
    payment_reference: str | None = None
    amount: Money | None = None
    failure_code: str | None = None


@runtime_checkable
class PaymentGateway(Protocol):
    """A way to take the buyer's money: create, capture, refund, and read the gateway's webhooks."""

    name: str
    kind: PaymentKind

    def currencies(self) -> frozenset[str]:
        """The currencies it takes, as configured."""
        ...

    def supports_currency(self, currency: str) -> bool: ...

    def create_payment(self, request: CreatePayment) -> PaymentResult: ...

    def capture_payment(self, request: CapturePayment) -> PaymentResult: ...

    def refund_payment(self, request: RefundPayment) -> RefundResult: ...

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent: ...


@runtime_checkable
class TransferAccounts(Protocol):
    """Gateways where the buyer wires the money: they say where to (the same answer whenever
    asked, so an email shows exactly what the API answered)."""

    def instructions(
        self, amount: Money, reference: str, due_at: dt.datetime
    ) -> TransferInstructions: ...


@dataclass(frozen=True, slots=True)
class TransferToSeller:
    """Money moved from the platform's balance to a seller's connected account."""

    destination_account: str
    amount: Money
    idempotency_key: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TransferResult:
    reference: str
    amount: Money


@runtime_checkable
class SellerTransfers(Protocol):
    """Gateways that can pay a seller directly (Stripe Connect); others are paid by bank export."""

    def transfer_to_seller(self, request: TransferToSeller) -> TransferResult: ...


class CurrencyNotSupported(Invalid):
    code = "currency_not_supported_by_gateway"
    default_detail = _("This payment method does not accept this currency.")


class WebhookSignatureInvalid(DomainError):
    status = 400
    code = "webhook_signature_invalid"
    default_detail = _("The webhook signature is missing, wrong or too old.")


class GatewayError(DomainError):
    """The gateway refused or could not be reached; nothing was recorded on our side."""

    status = 502
    code = "payment_gateway_error"
    default_detail = _("The payment provider could not complete the request. Try again later.")


class GatewayUnavailable(Conflict):
    """A gateway this software has, but this deployment has not configured (no keys)."""

    code = "gateway_unavailable"
    default_detail = _("This payment method is not set up on this marketplace.")


class NotOfferedThere(Invalid):
    code = "payment_method_not_offered"
    default_detail = _("This payment method is not offered for the order's destination.")


class UnknownGateway(Invalid):
    code = "payment_gateway_unknown"
    default_detail = _("This payment method is not available.")
