"""Manual bank transfer: the buyer wires the money; an operator captures when it arrives.

Nothing is sent anywhere, so there is no remote state: the payment record on our side is the truth,
and this adapter only issues references, tells the buyer where and by when to pay, and answers in
the gateway vocabulary.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any

from config import ConfigurationError
from marketplace.db import utcnow
from marketplace.money import Money, is_known
from marketplace.money.currencies import known_currencies
from marketplace.payments.gateway import (
    BankAccount,
    CapturePayment,
    CreatePayment,
    CurrencyNotSupported,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
    RefundPayment,
    RefundResult,
    TransferInstructions,
    WebhookEvent,
    WebhookRequest,
    WebhookSignatureInvalid,
)

ANY_CURRENCY = "*"


def bank_accounts(raw: str) -> dict[str, BankAccount]:
    """BANK_TRANSFER_ACCOUNTS: JSON {currency or "*": {beneficiary, bank_name, iban?, ...}}."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
        accounts = {str(currency): BankAccount(**entry) for currency, entry in data.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"BANK_TRANSFER_ACCOUNTS is not valid: {exc}") from exc
    unknown = sorted(c for c in accounts if c != ANY_CURRENCY and not is_known(c))
    if unknown:
        raise ConfigurationError(f"BANK_TRANSFER_ACCOUNTS names unknown currencies: {unknown}")
    return accounts


class ManualGateway:
    """Pending until an operator captures; refunds are recorded and paid back by the operator."""

    name = "manual"
    kind = PaymentKind.BANK_TRANSFER

    def __init__(self, accounts: Mapping[str, BankAccount], *, transfer_days: int) -> None:
        self._accounts = dict(accounts)
        self._days = transfer_days

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ManualGateway:
        return cls(
            bank_accounts(str(settings.get("BANK_TRANSFER_ACCOUNTS") or "")),
            transfer_days=int(settings.get("BANK_TRANSFER_DAYS") or 7),
        )

    def currencies(self) -> frozenset[str]:
        if ANY_CURRENCY in self._accounts:
            return frozenset(known_currencies())
        return frozenset(self._accounts)

    def supports_currency(self, currency: str) -> bool:
        return is_known(currency) and (currency in self._accounts or ANY_CURRENCY in self._accounts)

    def create_payment(self, request: CreatePayment) -> PaymentResult:
        currency = request.amount.currency
        if not self.supports_currency(currency):
            raise CurrencyNotSupported()
        # Our own reference must be unique; the buyer quotes the order number (`reference`).
        reference = (
            "bt_" + uuid.uuid5(uuid.NAMESPACE_URL, "manual:" + request.idempotency_key).hex[:20]
        )
        requested = request.requested_at or utcnow()
        return PaymentResult(
            reference=reference,
            status=PaymentStatus.PENDING,
            amount=request.amount,
            instructions=self.instructions(
                request.amount,
                request.reference or reference,
                requested + dt.timedelta(days=self._days),
            ),
        )

    def instructions(
        self, amount: Money, reference: str, due_at: dt.datetime
    ) -> TransferInstructions:
        """The account configured for the amount's currency (else the one for any currency)."""
        if not self.supports_currency(amount.currency):
            raise CurrencyNotSupported()
        return TransferInstructions(
            account=self._accounts.get(amount.currency) or self._accounts[ANY_CURRENCY],
            reference=reference,
            amount=amount,
            due_at=due_at,
        )

    def capture_payment(self, request: CapturePayment) -> PaymentResult:
        """The operator saw the money arrive on the platform's account."""
        return PaymentResult(
            reference=request.reference, status=PaymentStatus.SUCCEEDED, amount=request.amount
        )

    def refund_payment(self, request: RefundPayment) -> RefundResult:
        """Recorded as done: the operator sends the money back by bank transfer from the export."""
        return RefundResult(
            reference="btr_"
            + uuid.uuid5(uuid.NAMESPACE_URL, "manual-refund:" + request.idempotency_key).hex[:20],
            payment_reference=request.reference,
            amount=request.amount,
            status=PaymentStatus.SUCCEEDED,
        )

    def parse_webhook(self, request: WebhookRequest) -> WebhookEvent:
        """Bank transfers have no webhooks: anything claiming to be one is refused."""
        raise WebhookSignatureInvalid()
