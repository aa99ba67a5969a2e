"""Webhook endpoints: register, list, delete, rotate the secret, read and retry deliveries."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from marketplace.api import context
from marketplace.api.openapi import raises
from marketplace.api.schemas import PageArgsSchema, StrictSchema, choices, page_schema
from marketplace.db import utcnow
from marketplace.errors import Forbidden
from marketplace.events import endpoints
from marketplace.events.models import EndpointStatus, SendStatus, WebhookDelivery, WebhookEndpoint
from marketplace.events.transport import UnsafeTarget
from marketplace.outbox import EventType

blp = Blueprint("webhooks", __name__, description="Webhook endpoints and their deliveries")

NOT_OWNED = (
    "No such endpoint, or not the caller's (a seller's members or, platform-wide, operators)"
)


class EndpointCreateSchema(StrictSchema):
    url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2048),
        metadata={"example": "https://shop.example/hooks/silk-road"},
    )
    events = fields.List(
        fields.String(validate=validate.OneOf(choices(EventType))),
        required=True,
        validate=validate.Length(min=1, max=len(EventType)),
    )
    seller_id = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=36),
        metadata={
            "description": "The seller whose events it hears; absent: platform-wide (operators)"
        },
    )
    description = fields.String(load_default=None, validate=validate.Length(max=500))


class EndpointSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    seller_id = fields.String(required=True, allow_none=True)
    description = fields.String(required=True, allow_none=True)
    status = fields.String(
        required=True,
        metadata={
            "enum": choices(EndpointStatus),
            "description": "`failing` once a delivery used up its retries; a success makes it active",
        },
    )
    created_at = fields.DateTime(required=True)


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(
        required=True,
        metadata={
            "description": "Standard Webhooks signing secret (`whsec_...`), shown this once",
        },
    )


class DeliverySchema(Schema):
    id = fields.String(required=True)
    event_id = fields.String(
        required=True, metadata={"description": "Also the `webhook-id` header"}
    )
    event_type = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": choices(SendStatus)})
    attempts = fields.Integer(required=True)
    last_status = fields.Integer(
        required=True,
        allow_none=True,
        attribute="last_status_code",
        metadata={"description": "The receiver's HTTP status on the last attempt"},
    )
    last_error = fields.String(required=True, allow_none=True)
    next_attempt_at = fields.Method(
        "_next_attempt",
        required=True,
        allow_none=True,
        metadata={"type": "string", "format": "date-time", "nullable": True},
    )
    delivered_at = fields.DateTime(required=True, allow_none=True, attribute="sent_at")
    created_at = fields.DateTime(required=True)

    def _next_attempt(self, delivery: WebhookDelivery) -> str | None:
        if delivery.status != SendStatus.PENDING:
            return None
        return delivery.next_attempt_at.isoformat()


EndpointPageSchema = page_schema(EndpointSchema, "WebhookEndpointPage")
DeliveryPageSchema = page_schema(DeliverySchema, "WebhookDeliveryPage")


@blp.route("/webhook-endpoints")
class Endpoints(MethodView):
    @context.user_required
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, EndpointPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The caller's endpoints: its sellers', and for operators the platform-wide ones."""
        page = endpoints.list_endpoints(
            context.db(), context.require_user(), limit=query["limit"], cursor=query["cursor"]
        )
        return {"items": page.items, "next_cursor": page.next_cursor}

    @context.user_required
    @blp.arguments(EndpointCreateSchema)
    @blp.response(201, EndpointWithSecretSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No such seller, or not the caller's")
    @raises((Forbidden, "webhook_seller_required"), UnsafeTarget)
    def post(self, body: dict[str, Any]) -> WebhookEndpoint:
        """Register an endpoint for some events; signed with the `secret` in the answer, shown once."""
        return endpoints.create(
            context.db(),
            context.require_user(),
            endpoints.EndpointRequest(**body),
            allow_private=context.settings()["WEBHOOK_ALLOW_PRIVATE"],
        )


@blp.route("/webhook-endpoints/<endpoint_id>")
class Endpoint(MethodView):
    @context.user_required
    @blp.response(200, EndpointSchema)
    @blp.alt_response(404, response="NOT_FOUND", description=NOT_OWNED)
    def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One endpoint (its secret is never shown again)."""
        return endpoints.get(context.db(), context.require_user(), endpoint_id)

    @context.user_required
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND", description=NOT_OWNED)
    def delete(self, endpoint_id: str) -> None:
        """Delete an endpoint and its delivery log; nothing more is sent to it."""
        endpoints.delete(context.db(), context.require_user(), endpoint_id)


@blp.route("/webhook-endpoints/<endpoint_id>/secret", methods=["POST"])
@context.user_required
@blp.response(200, EndpointWithSecretSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_OWNED)
def rotate_secret(endpoint_id: str) -> WebhookEndpoint:
    """A new signing secret, shown once; the old one also signs for 24 hours (two signatures)."""
    return endpoints.rotate_secret(context.db(), context.require_user(), endpoint_id, now=utcnow())


@blp.route("/webhook-endpoints/<endpoint_id>/deliveries", methods=["GET"])
@context.user_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, DeliveryPageSchema)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_OWNED)
def deliveries(query: dict[str, Any], endpoint_id: str) -> dict[str, Any]:
    """The endpoint's delivery log, newest first: attempts, last status, next attempt."""
    page = endpoints.deliveries(
        context.db(),
        context.require_user(),
        endpoint_id,
        limit=query["limit"],
        cursor=query["cursor"],
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@blp.route("/webhook-endpoints/<endpoint_id>/deliveries/<delivery_id>/retry", methods=["POST"])
@context.user_required
@blp.response(202, DeliverySchema)
@blp.alt_response(404, response="NOT_FOUND", description=f"{NOT_OWNED}; or no such delivery")
def retry(endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    """Deliver again now (also after the retries ran out), with the same `webhook-id` and body."""
    return endpoints.retry(
        context.db(), context.require_user(), endpoint_id, delivery_id, now=utcnow()
    )
