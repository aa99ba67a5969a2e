"""Reading orders and shipments as each caller may see them, and what payments need to know.

Buyers and operators see an order whole, a seller only their own shipments and lines, a
brokerage the shipments designated to it; to anyone else an order does not exist (404). Lists
are keyset-paginated newest first, and cost a constant number of queries whatever their size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from marketplace import pagination
from marketplace.accounts import services as accounts
from marketplace.accounts.models import OrganisationKind, User
from marketplace.errors import NotFound
from marketplace.money import Money
from marketplace.orders.expiry import expire_lapsed
from marketplace.orders.models import Order, OrderFx, OrderLine, Shipment


@dataclass(frozen=True)
class Totals:
    goods: Money
    shipping: Money
    duties: Money
    taxes: Money
    grand_total: Money
    due_on_delivery: Money

    def as_dict(self) -> dict[str, Money]:
        return {
            "goods": self.goods,
            "shipping": self.shipping,
            "duties": self.duties,
            "taxes": self.taxes,
            "grand_total": self.grand_total,
            "due_on_delivery": self.due_on_delivery,
        }


def totals_of(currency: str, shipments: Iterable[Shipment]) -> Totals:
    """Sums in minor units, so the parts add up to the grand total exactly.

    DDP: the buyer pays duties and taxes with the order. DAP: they are shown, and due on delivery
    (less anything the destination collects at sale).
    """
    goods = shipping_ = duties = taxes = collected = 0
    for shipment in shipments:
        goods += shipment.goods_minor
        shipping_ += shipment.shipping_minor
        duties += shipment.duties_minor
        taxes += shipment.taxes_minor
        collected += shipment.collected_minor
    grand_total = goods + shipping_ + collected
    due = duties + taxes - collected

    def money(units: int) -> Money:
        return Money.from_minor(units, currency)

    return Totals(
        money(goods), money(shipping_), money(duties), money(taxes), money(grand_total), money(due)
    )


@dataclass
class OrderView:
    """An order as one caller may see it: a seller sees only their own shipments and lines."""

    order: Order
    shipments: list[Shipment]
    lines: list[OrderLine]
    fx: list[OrderFx]
    whole: bool

    @property
    def totals(self) -> Totals:
        return totals_of(self.order.currency, self.shipments)


@dataclass
class ShipmentView:
    shipment: Shipment
    order: Order
    lines: list[OrderLine] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def get_order(session: Session, user: User, order_id: str, *, now: dt.datetime) -> OrderView:
    """The order as the caller may see it: buyer and operator whole, a seller their own part."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound()
    views = _views(session, user, [order], now)
    if not views:
        raise NotFound()
    return views[0]


def list_orders(
    session: Session,
    user: User,
    *,
    now: dt.datetime,
    limit: int,
    cursor: str | None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> Page:
    """The caller's orders, newest first: bought, or holding a shipment of their seller; filtered
    by status and by creation time (`created_from` included, `created_to` excluded)."""
    query = select(Order)
    if status is not None:
        query = query.where(Order.status == status)
    if created_from is not None:
        query = query.where(Order.created_at >= created_from)
    if created_to is not None:
        query = query.where(Order.created_at < created_to)
    if not user.is_operator:
        sellers = accounts.organisation_ids(session, user.id, OrganisationKind.SELLER)
        query = query.where(
            or_(
                Order.buyer_id == user.id,
                Order.id.in_(select(Shipment.order_id).where(Shipment.seller_id.in_(sellers))),
            )
        )
    orders, next_cursor = pagination.newest_first(session, query, Order, limit, cursor)
    return Page(_views(session, user, orders, now), next_cursor)


def _views(
    session: Session, user: User, orders: Sequence[Order], now: dt.datetime
) -> list[OrderView]:
    """Views of several orders in a constant number of queries (shipments, lines, fx)."""
    if not orders:
        return []
    sellers: set[str] = set()
    if not user.is_operator and any(order.buyer_id != user.id for order in orders):
        sellers = set(accounts.organisation_ids(session, user.id, OrganisationKind.SELLER))
    return _assemble(
        session,
        orders,
        now,
        whole=lambda order: user.is_operator or order.buyer_id == user.id,
        sellers=sellers,
    )


def order_view(
    session: Session, order_id: str, *, seller_id: str | None, now: dt.datetime
) -> OrderView | None:
    """The whole order, or the part a seller sees (None when it holds nothing of theirs).

    For readers that are not a signed-in user: webhooks and emails about the order.
    """
    order = session.get(Order, order_id)
    if order is None:
        return None
    views = _assemble(
        session,
        [order],
        now,
        whole=lambda _order: seller_id is None,
        sellers={seller_id} if seller_id else set(),
    )
    return views[0] if views else None


class OrderViews:
    """`order_view` read once per order and seller for one event: its webhooks and its emails
    describe the same order, and it is not read again for each of them."""

    def __init__(self, session: Session, now: dt.datetime) -> None:
        self._session = session
        self.now = now
        self._views: dict[tuple[str, str | None], OrderView | None] = {}

    def get(self, order_id: str, seller_id: str | None = None) -> OrderView | None:
        key = (order_id, seller_id)
        if key not in self._views:
            self._views[key] = order_view(
                self._session, order_id, seller_id=seller_id, now=self.now
            )
        return self._views[key]


def _assemble(
    session: Session,
    orders: Sequence[Order],
    now: dt.datetime,
    *,
    whole: Callable[[Order], bool],
    sellers: set[str],
) -> list[OrderView]:
    expire_lapsed(session, orders, now)
    ids = [order.id for order in orders]
    shipments: dict[str, list[Shipment]] = {order_id: [] for order_id in ids}
    for shipment in session.scalars(
        select(Shipment).where(Shipment.order_id.in_(ids)).order_by(Shipment.position)
    ):
        shipments[shipment.order_id].append(shipment)
    lines: dict[str, list[OrderLine]] = {order_id: [] for order_id in ids}
    for line in session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.position)
    ):
        lines[line.order_id].append(line)
    fx: dict[str, list[OrderFx]] = {order_id: [] for order_id in ids}
    for rate in session.scalars(
        select(OrderFx).where(OrderFx.order_id.in_(ids)).order_by(OrderFx.position)
    ):
        fx[rate.order_id].append(rate)
    views = []
    for order in orders:
        entire = whole(order)
        visible = [s for s in shipments[order.id] if entire or s.seller_id in sellers]
        if not visible:
            continue
        visible_ids = {s.id for s in visible}
        views.append(
            OrderView(
                order=order,
                shipments=visible,
                lines=[line for line in lines[order.id] if line.shipment_id in visible_ids],
                fx=fx[order.id],
                whole=entire,
            )
        )
    return views


def get_shipment(
    session: Session, user: User, shipment_id: str, *, now: dt.datetime
) -> ShipmentView:
    """A shipment for its buyer, its seller's members, its designated brokerage's members or an
    operator; to anyone else it does not exist. Customs and documents use this for access."""
    shipment = session.scalar(
        select(Shipment).where(Shipment.id == shipment_id).options(joinedload(Shipment.order))
    )
    if shipment is None or not _may_read(session, user, shipment):
        raise NotFound()
    return _shipment_view(session, shipment, now)


def shipment_view(session: Session, shipment_id: str, *, now: dt.datetime) -> ShipmentView | None:
    """A shipment for readers that are not a signed-in user (webhooks, emails)."""
    shipment = session.scalar(
        select(Shipment).where(Shipment.id == shipment_id).options(joinedload(Shipment.order))
    )
    return None if shipment is None else _shipment_view(session, shipment, now)


def _shipment_view(session: Session, shipment: Shipment, now: dt.datetime) -> ShipmentView:
    order = shipment.order
    expire_lapsed(session, [order], now)
    lines = list(
        session.scalars(
            select(OrderLine)
            .where(OrderLine.shipment_id == shipment.id)
            .order_by(OrderLine.position)
        )
    )
    return ShipmentView(shipment=shipment, order=order, lines=lines)


def _may_read(session: Session, user: User, shipment: Shipment) -> bool:
    if user.is_operator or shipment.order.buyer_id == user.id:
        return True
    organisations = {shipment.seller_id} | (
        {shipment.brokerage_id} if shipment.brokerage_id else set()
    )
    return bool(
        set(accounts.organisation_ids(session, user.id, OrganisationKind.SELLER)) & organisations
        or set(accounts.organisation_ids(session, user.id, OrganisationKind.BROKERAGE))
        & organisations
    )


def list_shipments(
    session: Session,
    user: User,
    *,
    status: str | None,
    to_country: str | None,
    limit: int,
    cursor: str | None,
    now: dt.datetime,
) -> Page:
    """The shipments of the caller's orders, of their sellers and of the brokerages designated
    on them."""
    sellers = accounts.organisation_ids(session, user.id, OrganisationKind.SELLER)
    brokerages = accounts.organisation_ids(session, user.id, OrganisationKind.BROKERAGE)
    bought = select(Order.id).where(Order.buyer_id == user.id)
    query = (
        select(Shipment)
        .where(
            or_(
                Shipment.order_id.in_(bought),
                Shipment.seller_id.in_(sellers),
                Shipment.brokerage_id.in_(brokerages),
            )
        )
        .options(joinedload(Shipment.order))
    )
    if status:
        query = query.where(Shipment.status == status)
    if to_country:
        query = query.where(Shipment.to_country == to_country)
    shipments, next_cursor = pagination.newest_first(session, query, Shipment, limit, cursor)
    expire_lapsed(session, [s.order for s in shipments], now)
    lines: dict[str, list[OrderLine]] = {s.id: [] for s in shipments}
    if shipments:
        for line in session.scalars(
            select(OrderLine)
            .where(OrderLine.shipment_id.in_(list(lines)))
            .order_by(OrderLine.position)
        ):
            lines[line.shipment_id].append(line)
    return Page(
        [ShipmentView(shipment=s, order=s.order, lines=lines[s.id]) for s in shipments], next_cursor
    )


def rate_set_of(session: Session, order_id: str) -> str | None:
    """The id of the rate set the order was priced with (None for an order in one currency)."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound()
    return order.rate_set_id


@dataclass(frozen=True)
class SellerShare:
    """What one shipment of a paid order is worth, for the sellers' ledger and refunds."""

    seller_id: str
    shipment_id: str
    goods_seller: Money  # seller's currency, as priced
    shipping_seller: Money
    paid: Money  # order currency: goods, shipping and duties/taxes collected for this shipment


def seller_shares(session: Session, order_id: str) -> list[SellerShare]:
    """Per shipment, in the seller's currency and in the order's (payments' ledger and refunds)."""
    return [
        SellerShare(
            seller_id=shipment.seller_id,
            shipment_id=shipment.id,
            goods_seller=shipment.goods_seller,
            shipping_seller=shipment.shipping_seller,
            paid=shipment.goods + shipment.shipping + shipment.collected,
        )
        for shipment in session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.position)
        )
    ]
