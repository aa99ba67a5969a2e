"""Webhook endpoints: who may register one, see it, rotate its secret, read and retry deliveries.

A seller's members own its endpoints, which hear of its own shipments, orders and listings only;
operators own the platform-wide ones, which hear of everything. To anyone else an endpoint does
not exist (404).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from marketplace import pagination
from marketplace.accounts import services as accounts
from marketplace.accounts.models import OrganisationKind, User
from marketplace.errors import Forbidden, NotFound
from marketplace.events import dispatch, wake
from marketplace.events.models import WebhookDelivery, WebhookEndpoint
from marketplace.events.transport import check_url, new_secret
from marketplace.i18n import _

# How long the secret a rotation replaced still signs deliveries beside the new one.
ROTATION_OVERLAP = dt.timedelta(hours=24)


@dataclass(frozen=True)
class EndpointRequest:
    url: str
    events: Sequence[str]
    seller_id: str | None
    description: str | None


@dataclass(frozen=True)
class Page:
    items: list[object]
    next_cursor: str | None


def create(
    session: Session, user: User, request: EndpointRequest, *, allow_private: bool
) -> WebhookEndpoint:
    """Register an endpoint; its secret is readable on the returned object this once."""
    seller_id = request.seller_id
    if seller_id is not None:
        accounts.require_member(session, user, seller_id, OrganisationKind.SELLER)
    elif not user.is_operator:
        sellers = accounts.organisation_ids(session, user.id, OrganisationKind.SELLER)
        if len(sellers) != 1:
            raise Forbidden(
                _("Only operators register platform-wide endpoints; name the seller_id."),
                code="webhook_seller_required",
            )
        seller_id = sellers[0]
    check_url(request.url, allow_private=allow_private)
    endpoint = WebhookEndpoint(
        url=request.url,
        events=sorted(set(request.events)),
        seller_id=seller_id,
        description=request.description,
        secret=new_secret(),
        created_by=user.id,
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def _owned_query(session: Session, user: User) -> Select[WebhookEndpoint]:
    sellers = accounts.organisation_ids(session, user.id, OrganisationKind.SELLER)
    owned: ColumnElement[bool] = WebhookEndpoint.seller_id.in_(sellers)
    if user.is_operator:
        owned = or_(owned, WebhookEndpoint.seller_id.is_(None))
    return select(WebhookEndpoint).where(owned)


def get(session: Session, user: User, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.scalar(_owned_query(session, user).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise NotFound()
    return endpoint


def list_endpoints(session: Session, user: User, *, limit: int, cursor: str | None) -> Page:
    rows, next_cursor = pagination.newest_first(
        session, _owned_query(session, user), WebhookEndpoint, limit, cursor
    )
    return Page(rows, next_cursor)


def delete(session: Session, user: User, endpoint_id: str) -> None:
    session.delete(get(session, user, endpoint_id))
    session.flush()


def rotate_secret(
    session: Session, user: User, endpoint_id: str, *, now: dt.datetime
) -> WebhookEndpoint:
    """A new secret; the old one keeps signing beside it for ROTATION_OVERLAP."""
    endpoint = get(session, user, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    session.flush()
    return endpoint


def deliveries(
    session: Session, user: User, endpoint_id: str, *, limit: int, cursor: str | None
) -> Page:
    endpoint = get(session, user, endpoint_id)
    rows, next_cursor = pagination.newest_first(
        session,
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id),
        WebhookDelivery,
        limit,
        cursor,
    )
    return Page(rows, next_cursor)


def retry(
    session: Session, user: User, endpoint_id: str, delivery_id: str, *, now: dt.datetime
) -> WebhookDelivery:
    endpoint = get(session, user, endpoint_id)
    delivery = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )
    if delivery is None:
        raise NotFound()
    dispatch.retry_now(session, delivery, now)
    wake.deliver_soon(session, delivery.id)
    return delivery
