"""Payments over HTTP: Stripe's webhook, the operator's capture of a bank transfer, seller balances."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from marketplace.accounts.models import OrganisationKind
from marketplace.accounts.services import require_member
from marketplace.api import accepts, context
from marketplace.errors import Forbidden, NotFound
from marketplace.i18n import _
from marketplace.money import Money
from marketplace.payments import ledger, services
from marketplace.payments.gateway import PaymentGateway, WebhookRequest
from marketplace.payments.models import Payment
from marketplace.payments.services import Listeners

blp = Blueprint("payments", __name__, description="Payments, gateway webhooks and seller balances")


class AmountSchema(Schema):
    amount = fields.String(required=True, metadata={"example": "12.50"})
    currency = fields.String(required=True, metadata={"example": "EUR"})


class WebhookAckSchema(Schema):
    received = fields.Boolean(required=True)
    event_id = fields.String(required=True)
    outcome = fields.String(
        required=True,
        metadata={"description": "applied, unhandled, unmatched, ignored, or duplicate (already applied)"},
    )


class PaymentSchema(Schema):
    id = fields.String(required=True)
    order_id = fields.String(required=True)
    gateway = fields.String(required=True)
    status = fields.String(required=True)
    amount = fields.Nested(AmountSchema, required=True)
    refunded = fields.Nested(AmountSchema, required=True)
    created_at = fields.DateTime(required=True)


class BalanceSchema(Schema):
    seller_id = fields.String(required=True)
    currency = fields.String(required=True)
    sales = fields.Nested(AmountSchema, required=True)
    commission = fields.Nested(AmountSchema, required=True)
    refunds = fields.Nested(AmountSchema, required=True)
    payouts = fields.Nested(AmountSchema, required=True)
    payable = fields.Nested(AmountSchema, required=True)


def _gateway(name: str) -> PaymentGateway:
    gateway: PaymentGateway | None = context.extension("payment_gateways").get(name)
    if gateway is None:
        raise NotFound()
    return gateway


def _listeners() -> Listeners:
    listeners: Listeners = context.extension("payment_listeners")
    return listeners


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "gateway": payment.gateway,
        "status": payment.status,
        "amount": Money.from_minor(payment.amount_minor, payment.currency).to_api(),
        "refunded": Money.from_minor(payment.refunded_minor, payment.currency).to_api(),
        "created_at": payment.created_at,
    }


@blp.route("/webhooks/stripe", methods=["POST"])
@accepts("application/json")
@blp.response(200, WebhookAckSchema)
@blp.alt_response(400, response="BAD_REQUEST", description="Missing, wrong or expired Stripe-Signature")
@blp.doc(
    parameters=[{"in": "header", "name": "Stripe-Signature", "required": True, "schema": {"type": "string"}}],
    requestBody={
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "A Stripe event, verified byte for byte"}
            }
        },
    },
)
def stripe_webhook() -> dict[str, Any]:
    """Stripe's events: signature checked over the raw body, each event applied once."""
    gateway = _gateway("stripe")
    event = gateway.parse_webhook(
        WebhookRequest(payload=request.get_data(), signature=request.headers.get("Stripe-Signature"))
    )
    outcome = services.apply_webhook_event(context.db(), gateway.name, event, _listeners())
    return {"received": True, "event_id": event.event_id, "outcome": outcome.value}


@blp.route("/payments/<payment_id>/capture", methods=["POST"])
@context.user_required
@blp.response(200, PaymentSchema)
def capture_payment(payment_id: str) -> dict[str, Any]:
    """An operator confirms that a bank transfer arrived: the payment succeeds."""
    if not context.require_user().is_operator:
        raise Forbidden(_("Only an operator may do this."), code="operator_required")
    session = context.db()
    payment = services.get_payment(session, payment_id)
    captured = services.capture_payment(session, _gateway(payment.gateway), payment.id, _listeners())
    return payment_view(captured)


@blp.route("/sellers/<seller_id>/balance", methods=["GET"])
@context.user_required
@blp.response(200, BalanceSchema)
def seller_balance(seller_id: str) -> dict[str, Any]:
    """What the platform owes a seller: sales, commission, refunds, payouts and payable."""
    session = context.db()
    require_member(session, context.require_user(), seller_id, OrganisationKind.SELLER)
    balance = ledger.seller_balance(session, seller_id)
    return {
        "seller_id": balance.seller_id,
        "currency": balance.currency,
        **{
            name: getattr(balance, name).to_api()
            for name in ("sales", "commission", "refunds", "payouts", "payable")
        },
    }
