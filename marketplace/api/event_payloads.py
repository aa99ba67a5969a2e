"""The `data` of a webhook: the resource an event is about, as the API serves it.

Built when the event is handed on (a moment after its commit) and kept with each delivery, so
every retry carries the same body. A seller's endpoint gets the seller's view of an order (its
own shipments and lines only), as `GET /orders/{id}` shows it to the seller's members.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from marketplace.api import context
from marketplace.api.customs_documents import DocumentSchema
from marketplace.api.listings import ListingSchema
from marketplace.api.orders.schemas import OrderSchema, ShipmentSchema
from marketplace.api.payments import PaymentSchema, RefundSchema
from marketplace.catalogue.models import Listing
from marketplace.customs.documents import store
from marketplace.orders import queries as orders
from marketplace.outbox import EventType, OutboxEvent
from marketplace.payments import order_payments
from marketplace.payments.models import Payment, PaymentRefund

_ORDER = OrderSchema()  # built once: a schema's nested schemas are made on its first dump

ORDER_EVENTS = frozenset(
    {
        EventType.ORDER_PLACED,
        EventType.ORDER_PAID,
        EventType.ORDER_CANCELLED,
        EventType.ORDER_EXPIRED,
    }
)


def event_data(
    session: Session, event: OutboxEvent, seller_id: str | None, views: orders.OrderViews
) -> dict[str, Any]:
    """The event's resource; what the event recorded when that resource is gone."""
    kind = EventType(event.type)
    ids = event.data
    if kind in ORDER_EVENTS:
        view = views.get(ids["order_id"], seller_id)
        if view is not None:
            return dict(_ORDER.dump(view))
    elif kind in (EventType.PAYMENT_CREATED, EventType.PAYMENT_FAILED):
        payment = session.get(Payment, ids["payment_id"])
        if payment is not None:
            gateways = context.extension("payment_gateways")
            return dict(
                PaymentSchema().dump(order_payments.whole_payment(session, gateways, payment))
            )
    elif kind is EventType.REFUND_CREATED:
        refund = session.get(PaymentRefund, ids["refund_id"])
        if refund is not None:
            return {
                **RefundSchema().dump(refund),
                "order_id": ids["order_id"],
                "payment_id": ids["payment_id"],
            }
    elif kind is EventType.SHIPMENT_DISPATCHED:
        shipment = orders.shipment_view(session, ids["shipment_id"], now=views.now)
        if shipment is not None:
            return dict(ShipmentSchema().dump(shipment))
    elif kind is EventType.DOCUMENTS_ISSUED:
        documents = store.listed_documents(session, ids["shipment_id"])
        return {
            "shipment_id": ids["shipment_id"],
            "order_id": ids["order_id"],
            "documents": DocumentSchema(many=True).dump(documents),
        }
    elif kind is EventType.LISTING_LOW_STOCK:
        listing = session.get(Listing, ids["listing_id"])
        if listing is not None:
            return dict(ListingSchema().dump(listing))
    return dict(ids)
