"""Payments over HTTP: paying and refunding orders, Stripe's webhook, the operator's capture of a
bank transfer, seller balances."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from marketplace.accounts.models import OrganisationKind
from marketplace.accounts.services import OperatorRequired, require_member, require_operator
from marketplace.api import accepts, context
from marketplace.api.idempotency import HEADER, idempotent
from marketplace.api.money_fields import MoneyField, MoneyOutputSchema
from marketplace.api.openapi import raises
from marketplace.api.schemas import Country, CurrencyCode, OmitsNulls, StrictSchema, choices, text
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.i18n import _
from marketplace.orders.errors import InvalidTransition
from marketplace.payments import ledger, order_payments, services
from marketplace.payments.adapters import GATEWAY_NAMES
from marketplace.payments.gateway import (
    CurrencyNotSupported,
    GatewayError,
    GatewayUnavailable,
    NotOfferedThere,
    PaymentGateway,
    PaymentKind,
    PaymentStatus,
    UnknownGateway,
    WebhookRequest,
    WebhookSignatureInvalid,
)
from marketplace.payments.models import Payment
from marketplace.payments.services import Listeners, StartedPayment

blp = Blueprint("payments", __name__, description="Payments, gateway webhooks and seller balances")


class WebhookAckSchema(Schema):
    received = fields.Boolean(required=True)
    event_id = fields.String(required=True)
    outcome = fields.String(
        required=True,
        metadata={
            "description": "applied, unhandled, unmatched, ignored, or duplicate (already applied)"
        },
    )


PAYMENT_STATUS = {"enum": choices(PaymentStatus)}


class TransferInstructionsSchema(OmitsNulls):
    """Dumps TransferInstructions: the account's details beside what to quote, how much, by when.

    An account has an IBAN or a local number, not always both: the other is absent, not null."""

    beneficiary = fields.String(required=True, attribute="account.beneficiary")
    bank_name = fields.String(required=True, attribute="account.bank_name")
    iban = fields.String(attribute="account.iban")
    account_number = fields.String(attribute="account.account_number")
    swift_bic = fields.String(attribute="account.swift_bic")
    reference = fields.String(
        required=True, metadata={"description": "The order number, to quote on the transfer"}
    )
    amount = fields.Nested(MoneyOutputSchema, required=True)
    due_at = fields.DateTime(
        required=True,
        metadata={"description": "Pay by then: the order holds its stock until this moment"},
    )


class PaymentSchema(Schema):
    id = fields.String(required=True)
    order_id = fields.String(required=True)
    gateway = fields.String(required=True, metadata={"enum": ["manual", "stripe"]})
    status = fields.String(required=True, metadata=PAYMENT_STATUS)
    amount = fields.Nested(MoneyOutputSchema, required=True)
    refunded = fields.Nested(MoneyOutputSchema, required=True)
    created_at = fields.DateTime(required=True)
    instructions = fields.Nested(
        TransferInstructionsSchema,
        metadata={
            "description": "A bank transfer still awaited (`pending`), to its buyer and "
            "operators: where to pay, what to quote, how much and by when"
        },
    )

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "instructions":
            return getattr(obj, "instructions", None) or ma.missing
        return super().get_attribute(obj, attr, default)


class PaymentStartedSchema(PaymentSchema):
    """Dumps a StartedPayment: the payment, and what the storefront needs to finish it (the
    card's client secret and publishable key, or a bank transfer's instructions)."""

    client_secret = fields.String(
        metadata={
            "description": "Stripe only: for the storefront's Stripe.js to confirm the payment"
        }
    )
    publishable_key = fields.String(
        metadata={"description": "Stripe only: the key Stripe.js is loaded with"}
    )

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr in ("client_secret", "publishable_key", "instructions"):
            return getattr(obj, attr) or ma.missing
        return super().get_attribute(obj.payment, attr, default)


class PaymentMethodQuerySchema(StrictSchema):
    currency = CurrencyCode(load_default=None)
    country = Country(load_default=None)


METHOD_NAMES = {PaymentKind.CARD: _("Card"), PaymentKind.BANK_TRANSFER: _("Bank transfer")}


class MethodName(fields.String):
    """The method's kind named for people, in the response locale."""

    def get_value(
        self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing
    ) -> str:
        return str(METHOD_NAMES[obj.kind])


class PaymentMethodSchema(Schema):
    """Dumps a `services.PaymentMethod`."""

    gateway = fields.String(required=True, metadata={"enum": sorted(GATEWAY_NAMES)})
    kind = fields.String(required=True, metadata={"enum": choices(PaymentKind)})
    name = MethodName(required=True, metadata={"description": "In the response locale"})
    currencies = fields.List(fields.String(), required=True)


class PaymentCreateSchema(StrictSchema):
    gateway = fields.String(
        required=True,
        validate=validate.Length(min=1, max=16),
        metadata={"enum": ["stripe", "manual"]},
    )


class RefundCreateSchema(StrictSchema):
    amount = MoneyField(
        allow_zero=False,
        load_default=None,
        metadata={"description": "In the payment's currency; the whole remainder when absent"},
    )
    shipment_id = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=36),
        metadata={
            "description": "The shipment refunded; a seller with one shipment in the order may omit it"
        },
    )
    reason = text(500)


class RefundSchema(Schema):
    id = fields.String(required=True)
    shipment_id = fields.String(required=True, allow_none=True)
    amount = fields.Nested(MoneyOutputSchema, required=True)
    status = fields.String(required=True, metadata=PAYMENT_STATUS)
    reason = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class OrderRefundSchema(Schema):
    payment = fields.Nested(PaymentSchema, required=True)
    refunds = fields.List(fields.Nested(RefundSchema), required=True)


class BalanceSchema(Schema):
    seller_id = fields.String(required=True)
    currency = fields.String(required=True)
    sales = fields.Nested(MoneyOutputSchema, required=True)
    commission = fields.Nested(MoneyOutputSchema, required=True)
    refunds = fields.Nested(MoneyOutputSchema, required=True)
    payouts = fields.Nested(MoneyOutputSchema, required=True)
    payable = fields.Nested(MoneyOutputSchema, required=True)


def _gateway(name: str) -> PaymentGateway:
    gateway: PaymentGateway | None = context.extension("payment_gateways").get(name)
    if gateway is None:
        raise NotFound()
    return gateway


def _listeners() -> Listeners:
    listeners: Listeners = context.extension("payment_listeners")
    return listeners


@blp.route("/orders/<order_id>/payments")
class OrderPayments(MethodView):
    @context.user_required
    @blp.response(200, PaymentSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND", description="No such order, or not the caller's")
    def get(self, order_id: str) -> list[order_payments.VisiblePayment]:
        """The order's payments, for its buyer, the sellers of its shipments and operators.

        A seller of some of the order's shipments sees its own shipments' share of each payment
        (`amount`) and of what was refunded for them (`refunded`), not the order's whole.
        """
        return order_payments.order_payments(
            context.db(),
            context.require_user(),
            order_id,
            gateways=context.extension("payment_gateways"),
            now=utcnow(),
        )

    @context.user_required
    @idempotent
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentStartedSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No such order, or not the caller's")
    @raises(
        InvalidTransition,
        GatewayUnavailable,
        (Conflict, "payment_gateway_unavailable"),
        (Conflict, "payment_in_progress"),
        UnknownGateway,
        CurrencyNotSupported,
        NotOfferedThere,
        GatewayError,
    )
    def post(self, body: dict[str, Any], order_id: str) -> StartedPayment:
        """The buyer pays their order's grand total in the order currency (Stripe or bank transfer)."""
        started = order_payments.pay_order(
            context.db(),
            context.require_user(),
            order_id,
            gateways=context.extension("payment_gateways"),
            gateway_name=body["gateway"],
            idempotency_key=request.headers.get(HEADER),
            now=utcnow(),
            countries=context.extension("payment_countries"),
        )
        return started


@blp.route("/payment-methods", methods=["GET"])
@blp.arguments(PaymentMethodQuerySchema, location="query")
@blp.response(200, PaymentMethodSchema(many=True))
def payment_methods(query: dict[str, Any]) -> list[services.PaymentMethod]:
    """How a buyer can pay on this marketplace: only the methods it has configured.

    `currency` keeps the methods that take it. `country` is the buyer's destination (an order's
    `ship_to.country`) and keeps the methods this marketplace offers there (configured per
    gateway in PAYMENT_COUNTRIES; a gateway not limited there is offered everywhere). Paying an
    order by a method not offered for its destination is a 422 `payment_method_not_offered`.
    """
    return services.payment_methods(
        context.extension("payment_gateways"),
        query["currency"],
        query["country"],
        context.extension("payment_countries"),
    )


@blp.route("/orders/<order_id>/refunds", methods=["POST"])
@context.user_required
@idempotent
@blp.arguments(RefundCreateSchema)
@blp.response(201, OrderRefundSchema)
@blp.alt_response(
    404,
    response="NOT_FOUND",
    description="No such order or shipment for the caller (another seller's shipment too)",
)
@raises(
    (Forbidden, "refund_forbidden"),
    (Conflict, "payment_gateway_unavailable"),
    (Invalid, "refund_amount_invalid"),
    (Conflict, "payment_not_refundable"),
    (Conflict, "refund_exceeds_payment"),
    (Invalid, "refund_currency_mismatch"),
    (Invalid, "shipment_required"),
    GatewayError,
)
def refund_order(body: dict[str, Any], order_id: str) -> order_payments.OrderRefund:
    """Refund a shipment (its seller) or the order (an operator), fully or partly, never more than paid."""
    refunded = order_payments.refund_order(
        context.db(),
        context.require_user(),
        order_id,
        gateways=context.extension("payment_gateways"),
        listeners=_listeners(),
        amount=body["amount"],
        shipment_id=body["shipment_id"],
        reason=body["reason"],
        idempotency_key=request.headers.get(HEADER),
        now=utcnow(),
    )
    return refunded


@blp.route("/webhooks/stripe", methods=["POST"])
@accepts("application/json")
@blp.response(200, WebhookAckSchema)
@blp.alt_response(
    400, response="BAD_REQUEST", description="Missing, wrong or expired Stripe-Signature"
)
@blp.doc(
    parameters=[
        {"in": "header", "name": "Stripe-Signature", "required": True, "schema": {"type": "string"}}
    ],
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A Stripe event, verified byte for byte",
                }
            }
        },
    },
)
@raises(WebhookSignatureInvalid)
def stripe_webhook() -> dict[str, Any]:
    """Stripe's events: signature checked over the raw body, each event applied once."""
    gateway = _gateway("stripe")
    event = gateway.parse_webhook(
        WebhookRequest(
            payload=request.get_data(), signature=request.headers.get("Stripe-Signature")
        )
    )
    outcome = services.apply_webhook_event(context.db(), gateway.name, event, _listeners())
    return {"received": True, "event_id": event.event_id, "outcome": outcome}


@blp.route("/payments/<payment_id>/capture", methods=["POST"])
@context.user_required
@blp.response(200, PaymentSchema)
@raises(OperatorRequired, (Conflict, "payment_not_capturable"))
def capture_payment(payment_id: str) -> Payment:
    """An operator confirms that a bank transfer arrived: the payment succeeds."""
    require_operator(context.require_user())
    session = context.db()
    payment = services.get_payment(session, payment_id)
    captured = services.capture_payment(
        session, _gateway(payment.gateway), payment.id, _listeners()
    )
    return captured


@blp.route("/sellers/<seller_id>/balance", methods=["GET"])
@context.user_required
@blp.response(200, BalanceSchema)
def seller_balance(seller_id: str) -> ledger.SellerBalance:
    """What the platform owes a seller: sales, commission, refunds, payouts and payable."""
    session = context.db()
    require_member(session, context.require_user(), seller_id, OrganisationKind.SELLER)
    return ledger.seller_balance(session, seller_id)
