"""Manual bank transfer: the buyer wires the money; an operator captures when it arrives.

Nothing is sent anywhere, so there is no remote state: the payment record on our side is the truth,
and this adapter only issues references and answers in the gateway vocabulary.
"""

from __future__ import annotations

import uuid

from marketplace.money import is_known
from marketplace.payments.gateway import (
    CapturePayment,
    CreatePayment,
    CurrencyNotSupported,
    PaymentResult,
    PaymentStatus,
    RefundPayment,
    RefundResult,
    WebhookEvent,
    WebhookRequest,
    WebhookSignatureInvalid,
)


class ManualGateway:
    """Pending until an operator captures; refunds are recorded and paid back by the operator."""

    name = "manual"

    def supports_currency(self, currency: str) -> bool:
        return is_known(currency)

    def create_payment(self, request: CreatePayment) -> PaymentResult:
        if not self.supports_currency(request.amount.currency):
            raise CurrencyNotSupported()
        # The reference is what the buyer writes on the transfer, so it must be unique and short.
        reference = (
            "bt_" + uuid.uuid5(uuid.NAMESPACE_URL, "manual:" + request.idempotency_key).hex[:20]
        )
        return PaymentResult(
            reference=reference, status=PaymentStatus.PENDING, amount=request.amount
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
