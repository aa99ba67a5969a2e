"""Orders: placing them (prices, rates, shipping, landed cost, stock), their lifecycle and who sees what.

State changes are guarded in the database, not only in Python: an order row is locked (or a
conditional UPDATE names the state it expects) before it moves, so a webhook, a sweep and a buyer
acting at once cannot both win. Stock is the catalogue's: reserved and released through
`catalogue.stock`, all lines or none.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from marketplace import pagination
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Organisation, OrganisationKind, User
from marketplace.catalogue import stock
from marketplace.catalogue.models import Listing, ListingStatus
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.i18n import _
from marketplace.money import Money, RateTable
from marketplace.money.rates import ensure_fresh
from marketplace.orders import shipping
from marketplace.orders.landed_cost import (
    CustomsItem,
    LandedCost,
    LandedCostEstimator,
    ShipmentForCustoms,
    no_duties,
)
from marketplace.orders.models import (
    Incoterm,
    Order,
    OrderFx,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)

_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


# ---------------------------------------------------------------------------------------------
# Errors


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_detail = _("The order is not in a state that allows this.")


class ListingUnavailable(Invalid):
    code = "listing_unavailable"
    default_detail = _("Some listings cannot be ordered.")


class NotShippedTo(Invalid):
    code = "not_shipped_to"
    default_detail = _("Some listings are not shipped to this country.")


class RefundUnavailable(Conflict):
    code = "refund_unavailable"
    default_detail = _("This order is paid and no refund can be issued right now; nothing changed.")


# ---------------------------------------------------------------------------------------------
# Inputs and views


@dataclass(frozen=True)
class LineRequest:
    listing_id: str
    quantity: int


@dataclass(frozen=True)
class OrderRequest:
    currency: str
    lines: Sequence[LineRequest]
    ship_to: Mapping[str, Any]
    incoterm: str = Incoterm.DAP.value
    broker_id: str | None = None


# Issues the refund of a paid order being cancelled (the payments package provides it).
RefundIssuer = Callable[[Session, Order], None]


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


# ---------------------------------------------------------------------------------------------
# Placing an order


@dataclass
class PricedOrder:
    """An order priced but not recorded: unsaved rows whose figures are what the buyer pays.

    A cart is read from one of these, and completing it records exactly this (`record_order`),
    so a cart's totals and its order's are the same numbers.
    """

    order: Order
    shipments: list[Shipment]
    lines: list[OrderLine]
    seller_currencies: set[str]
    unknown_shipping: set[str] = field(default_factory=set)  # sellers without a rate there

    @property
    def totals(self) -> Totals:
        return totals_of(self.order.currency, self.shipments)


def price_order(
    session: Session,
    request: OrderRequest,
    *,
    rates: RateTable,
    now: dt.datetime,
    max_rate_age: dt.timedelta | None = None,
    estimate: LandedCostEstimator = no_duties,
    titles: Mapping[str, tuple[str, str]] | None = None,
    unknown_shipping_free: bool = False,
    listings: Mapping[str, Listing] | None = None,
) -> PricedOrder:
    """Price an order without recording it or touching stock.

    Raises 422s for lines that cannot be ordered to the destination (all lines reported at once,
    keyed `lines.N.listing_id`), `rate_missing` for a currency without a rate, 409 `rate_stale`
    when a rate the order needs is older than `max_rate_age`. `titles` holds each listing's
    (title, locale) in the buyer's language, kept on its line. A seller without a shipping rate
    to the destination is a 422 `no_shipping_rate`, or with `unknown_shipping_free` (a quote)
    ships for nothing and is named in `unknown_shipping`. `listings` may hold the listings
    already read (with their destinations), so they are not read twice.
    """
    country = request.ship_to["country"]
    currency = request.currency
    rates.rate(currency)  # an order currency without a rate is refused before anything else
    listings = _orderable_listings(session, request.lines, country, listings)
    sellers, price_lists = shipping.sellers_shipping_to(
        session, {listing.seller_id for listing in listings.values()}, country
    )
    unknown = set(sellers) - set(price_lists)
    if not unknown_shipping_free:
        _require_shipping(request.lines, listings, price_lists, country)
    for seller_id in unknown:
        zero = Money.zero(sellers[seller_id].currency or currency)
        price_lists[seller_id] = shipping.RateRow((country,), zero, zero)
    # Listing prices, sellers and their shipping price lists may each use their own currency.
    seller_currencies = (
        {listing.currency for listing in listings.values()}
        | {seller.currency for seller in sellers.values() if seller.currency}
        | {row.base.currency for row in price_lists.values()}
    )
    if max_rate_age is not None:
        ensure_fresh(rates, {currency, *seller_currencies}, now, int(max_rate_age.total_seconds()))
    brokerage_id = _brokerage_for(session, request.broker_id, country)

    order = Order(
        number=_new_number(),
        status=OrderStatus.PENDING_PAYMENT.value,
        currency=currency,
        incoterm=request.incoterm,
        ship_to=dict(request.ship_to),
        ship_to_country=country,
        rate_set_id=rates.set_id,
        created_at=now,
        updated_at=now,
    )
    by_seller: dict[str, list[tuple[int, LineRequest]]] = {}
    for index, line in enumerate(request.lines):
        by_seller.setdefault(listings[line.listing_id].seller_id, []).append((index, line))

    shipments: list[Shipment] = []
    lines: list[OrderLine] = []
    for position, (seller_id, seller_lines) in enumerate(by_seller.items()):
        shipment, shipment_lines = _price_shipment(
            session,
            order,
            position,
            sellers[seller_id],
            [(index, line, listings[line.listing_id]) for index, line in seller_lines],
            price_lists[seller_id],
            rates,
            estimate,
            brokerage_id,
            titles or {},
        )
        shipments.append(shipment)
        lines.extend(shipment_lines)
    lines.sort(key=lambda line: line.position)

    priced = PricedOrder(order, shipments, lines, seller_currencies, unknown)
    totals = priced.totals
    order.goods_minor = totals.goods.minor
    order.shipping_minor = totals.shipping.minor
    order.duties_minor = totals.duties.minor
    order.taxes_minor = totals.taxes.minor
    order.grand_total_minor = totals.grand_total.minor
    order.fx = _locked_rates(rates, currency, seller_currencies)
    return priced


def record_order(
    session: Session,
    buyer: User,
    priced: PricedOrder,
    *,
    now: dt.datetime,
    reservation: dt.timedelta,
) -> OrderView:
    """Reserve the stock of a priced order and record it, as priced, for `buyer`.

    Raises 409 `insufficient_stock` listing every short line (nothing is reserved then).
    """
    order = priced.order
    order.buyer_id = buyer.id
    order.expires_at = now + reservation
    wanted: dict[str, int] = {}
    for line in priced.lines:
        wanted[line.listing_id] = wanted.get(line.listing_id, 0) + line.quantity
    stock.reserve(session, wanted)
    session.add(order)  # shipments and lines come along through their relationships
    session.flush()
    return OrderView(
        order=order, shipments=priced.shipments, lines=priced.lines, fx=order.fx, whole=True
    )


def place_order(
    session: Session,
    buyer: User,
    request: OrderRequest,
    *,
    rates: RateTable,
    now: dt.datetime,
    reservation: dt.timedelta,
    max_rate_age: dt.timedelta | None = None,
    estimate: LandedCostEstimator = no_duties,
) -> OrderView:
    """Price, reserve and record an order in one transaction; nothing is kept if anything fails."""
    priced = price_order(
        session, request, rates=rates, now=now, max_rate_age=max_rate_age, estimate=estimate
    )
    return record_order(session, buyer, priced, now=now, reservation=reservation)


def _orderable_listings(
    session: Session,
    requested: Sequence[LineRequest],
    country: str,
    preloaded: Mapping[str, Listing] | None = None,
) -> dict[str, Listing]:
    if not requested:
        raise Invalid(errors={"lines": [_("An order needs at least one line.")]})
    errors: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for index, line in enumerate(requested):
        if line.quantity < 1:
            errors[f"lines.{index}.quantity"] = [_("Must be at least 1.")]
        if line.listing_id in seen:
            errors[f"lines.{index}.listing_id"] = [_("This listing is already in another line.")]
        seen.add(line.listing_id)
    if errors:
        raise Invalid(errors=errors)
    listings = dict(preloaded) if preloaded is not None and seen <= set(preloaded) else None
    if listings is None:
        listings = load_listings(session, seen)
    unavailable: dict[str, list[Any]] = {}
    not_shipped: dict[str, list[Any]] = {}
    for index, line in enumerate(requested):
        listing = listings.get(line.listing_id)
        if listing is None or listing.status != ListingStatus.PUBLISHED.value:
            unavailable[f"lines.{index}.listing_id"] = [_("No published listing has this id.")]
        elif not _ships_to(listing, country):
            not_shipped[f"lines.{index}.listing_id"] = [
                _("This listing is not shipped to %(country)s.", country=country)
            ]
    if unavailable:
        raise ListingUnavailable(errors={**unavailable, **not_shipped})
    if not_shipped:
        raise NotShippedTo(errors=not_shipped)
    return listings


def load_listings(session: Session, ids: Iterable[str]) -> dict[str, Listing]:
    """Listings by id with their destinations, in one statement."""
    return {
        listing.id: listing
        for listing in session.scalars(
            select(Listing)
            .where(Listing.id.in_(set(ids)))
            .options(joinedload(Listing.destinations))
        ).unique()
    }


def _ships_to(listing: Listing, country: str) -> bool:
    return listing.ships_everywhere or country in listing.ships_to


def _require_shipping(
    requested: Sequence[LineRequest],
    listings: Mapping[str, Listing],
    price_lists: Mapping[str, shipping.RateRow],
    country: str,
) -> None:
    errors = {
        f"lines.{index}.listing_id": [
            _("The seller has no shipping rate to %(country)s.", country=country)
        ]
        for index, line in enumerate(requested)
        if listings[line.listing_id].seller_id not in price_lists
    }
    if errors:
        raise shipping.NoShippingRate(
            _("A seller in this order has no shipping rate to %(country)s.", country=country),
            errors=errors,
        )


def _brokerage_for(session: Session, brokerage_id: str | None, country: str) -> str | None:
    if brokerage_id is None:
        return None
    brokerage = session.get(Organisation, brokerage_id)
    if brokerage is None or brokerage.kind != OrganisationKind.BROKERAGE.value:
        message = _("No customs brokerage has this id.")
        raise Invalid(message, code="brokerage_unknown", errors={"broker_id": [message]})
    if country not in brokerage.countries:
        message = _("This brokerage does not clear goods into %(country)s.", country=country)
        raise Invalid(message, code="brokerage_not_serving", errors={"broker_id": [message]})
    return brokerage.id


def _price_shipment(
    session: Session,
    order: Order,
    position: int,
    seller: Organisation,
    items: Sequence[tuple[int, LineRequest, Listing]],
    price_list: shipping.RateRow,
    table: RateTable,
    estimate: LandedCostEstimator,
    brokerage_id: str | None,
    titles: Mapping[str, tuple[str, str]],
) -> tuple[Shipment, list[OrderLine]]:
    """One seller's parcel: each unit price converted once, shipping by weight, then landed cost.

    A listing may be priced in another currency than its seller's: its line keeps the listing's
    own price, and the shipment's seller-currency figures convert it (once) for the ledger.
    """
    currency = order.currency
    seller_currency = seller.currency or items[0][2].currency
    lines: list[OrderLine] = []
    customs_items: list[CustomsItem] = []
    goods_seller = Money.zero(seller_currency)
    goods = Money.zero(currency)
    weight = 0
    for index, request, listing in items:
        unit_seller = Money.from_minor(listing.price_minor, listing.currency)
        unit = table.convert(unit_seller, currency)
        total = unit * request.quantity
        goods_seller += table.convert(unit_seller, seller_currency) * request.quantity
        goods += total
        weight += listing.weight_grams * request.quantity
        customs_items.append(
            CustomsItem(
                listing.hs_code,
                listing.origin_country,
                request.quantity,
                unit,
                listing.weight_grams,
            )
        )
        lines.append(
            OrderLine(
                position=index,
                listing_id=listing.id,
                sku=listing.sku,
                title=listing.title,
                language=listing.language,
                buyer_title=titles.get(listing.id, (listing.title, listing.language))[0],
                buyer_locale=titles.get(listing.id, (listing.title, listing.language))[1],
                hs_code=listing.hs_code,
                origin_country=listing.origin_country,
                weight_grams=listing.weight_grams,
                quantity=request.quantity,
                seller_currency=listing.currency,
                unit_price_seller_minor=unit_seller.minor,
                currency=currency,
                unit_price_minor=unit.minor,
                total_minor=total.minor,
            )
        )
    exact_shipping = price_list.price(weight)
    shipping_cost = table.convert(exact_shipping, currency)
    landed = estimate(
        session,
        ShipmentForCustoms(
            from_country=seller.country,
            to_country=order.ship_to_country,
            incoterm=order.incoterm,
            currency=currency,
            items=tuple(customs_items),
            shipping=shipping_cost,
        ),
    )
    _check_landed_cost(landed, currency)
    shipment = Shipment(
        position=position,
        number=f"{order.number}-{position + 1}",
        seller_id=seller.id,
        brokerage_id=brokerage_id,
        status=ShipmentStatus.AWAITING_PAYMENT.value,
        incoterm=order.incoterm,
        from_country=seller.country,
        to_country=order.ship_to_country,
        weight_grams=weight,
        currency=currency,
        goods_minor=goods.minor,
        shipping_minor=shipping_cost.minor,
        duties_minor=landed.duties.minor,
        taxes_minor=landed.taxes.minor,
        collected_minor=landed.collected.minor,
        seller_currency=seller_currency,
        goods_seller_minor=goods_seller.minor,
        shipping_seller_minor=table.convert(exact_shipping, seller_currency).minor,
        de_minimis=landed.de_minimis,
        service_class=price_list.service_class.value,
        landed_cost=landed.detail,
        created_at=order.created_at,
    )
    shipment.order = order
    for line in lines:
        line.shipment = shipment
        line.order = order
    return shipment, lines


def _check_landed_cost(landed: LandedCost, currency: str) -> None:
    for amount in (landed.duties, landed.taxes, landed.collected):
        if amount.currency != currency or not amount.is_quantized() or amount.is_negative():
            raise ValueError(f"landed-cost estimate {amount} is not a rounded {currency} amount")
    if landed.collected > landed.duties + landed.taxes:
        raise ValueError("more duties and taxes collected at checkout than there are")


def _locked_rates(table: RateTable, currency: str, seller_currencies: set[str]) -> list[OrderFx]:
    """The rate from each seller's currency to the order's, with its date and source, for the record."""
    quotes = [table.quote(code, currency) for code in sorted(seller_currencies - {currency})]
    return [
        OrderFx(
            position=position,
            from_currency=quote.from_currency,
            to_currency=quote.to_currency,
            rate=quote.rate,
            as_of=quote.as_of,
            source=quote.source,
        )
        for position, quote in enumerate(quotes)
    ]


def _release_stock(session: Session, order_ids: Sequence[str]) -> None:
    """Give back what the orders reserved."""
    if not order_ids:
        return
    rows = session.execute(
        select(OrderLine.listing_id, func.sum(OrderLine.quantity))
        .where(OrderLine.order_id.in_(order_ids))
        .group_by(OrderLine.listing_id)
    )
    stock.release(session, {listing_id: int(quantity) for listing_id, quantity in rows.all()})


def _new_number() -> str:
    chars = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(10))
    return f"SR-{chars[:5]}-{chars[5:]}"


# ---------------------------------------------------------------------------------------------
# Lifecycle


def expire_due(
    session: Session, now: dt.datetime, order_ids: Sequence[str] | None = None
) -> list[str]:
    """Expire unpaid orders past their reservation (all, or among `order_ids`); stock comes back.

    A conditional UPDATE: an order being paid or cancelled at the same moment is left to whoever
    locked it first.
    """
    condition = and_(Order.status == OrderStatus.PENDING_PAYMENT.value, Order.expires_at <= now)
    if order_ids is not None:
        if not order_ids:
            return []
        condition = and_(condition, Order.id.in_(order_ids))
    expired = list(
        session.scalars(
            update(Order)
            .where(condition)
            .values(status=OrderStatus.EXPIRED.value, updated_at=now)
            .returning(Order.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    if expired:
        session.execute(
            update(Shipment)
            .where(Shipment.order_id.in_(expired))
            .values(status=ShipmentStatus.CANCELLED.value)
            .execution_options(synchronize_session="fetch")
        )
        _release_stock(session, sorted(expired))
    session.flush()
    return expired


def mark_paid(
    session: Session, order_id: str, *, now: dt.datetime, payment_reference: str | None = None
) -> Order:
    """The payments package calls this when the money arrived (webhook or manual capture).

    An unpaid order still holding its stock becomes paid, even a little past its reservation
    time if the sweep has not reached it. Paying again with the same reference is a no-op;
    anything else (expired, cancelled, already paid otherwise) is a 409.
    """
    order = _locked(session, order_id)
    if (
        order.status == OrderStatus.PAID.value
        and payment_reference is not None
        and (order.payment_reference == payment_reference)
    ):
        return order
    _require_status(order, "pay", OrderStatus.PENDING_PAYMENT)
    order.status = OrderStatus.PAID.value
    order.paid_at = now
    order.updated_at = now
    order.payment_reference = payment_reference
    session.execute(
        update(Shipment)
        .where(Shipment.order_id == order.id)
        .values(status=ShipmentStatus.READY.value)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    return order


def hold_until(session: Session, order_id: str, until: dt.datetime) -> None:
    """Keep an unpaid order's reservation at least until `until` (a bank transfer's due date)."""
    session.execute(
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.PENDING_PAYMENT.value,
            Order.expires_at < until,
        )
        .values(expires_at=until)
        .execution_options(synchronize_session="fetch")
    )


def payable_order(
    session: Session, user: User, order_id: str, *, now: dt.datetime
) -> tuple[Order, Money]:
    """The buyer's own unpaid order and the amount to charge (its grand total), for payments.

    Someone else's order is a 404; an order that is not awaiting payment (paid, expired, ...)
    is a 409 `invalid_transition`.
    """
    view = get_order(session, user, order_id, now=now)
    if view.order.buyer_id != user.id:
        raise NotFound()
    _require_status(view.order, "pay", OrderStatus.PENDING_PAYMENT)
    return view.order, view.totals.grand_total


def takes_payment(session: Session, order_id: str, payment_reference: str) -> bool:
    """Whether money that arrived for the order is wanted: yes while the order awaits payment,
    or when this very payment already paid it (a replayed event); no once another payment paid
    it, or it expired or was cancelled.

    The order row stays locked until the transaction ends, so two payments succeeding at once are
    decided one after the other.
    """
    order = _locked(session, order_id)
    if order.status == OrderStatus.PENDING_PAYMENT.value:
        return True
    return order.status == OrderStatus.PAID.value and order.payment_reference == payment_reference


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
            goods_seller=Money.from_minor(shipment.goods_seller_minor, shipment.seller_currency),
            shipping_seller=Money.from_minor(
                shipment.shipping_seller_minor, shipment.seller_currency
            ),
            paid=Money.from_minor(
                shipment.goods_minor + shipment.shipping_minor + shipment.collected_minor,
                shipment.currency,
            ),
        )
        for shipment in session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.position)
        )
    ]


def mark_refunded(session: Session, order_id: str, *, now: dt.datetime, partially: bool) -> Order:
    """The payments package records a refund of a paid or shipped order."""
    order = _locked(session, order_id)
    _require_status(
        order,
        "refund",
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.PARTIALLY_REFUNDED,
        OrderStatus.CANCELLED,
    )
    if order.status != OrderStatus.CANCELLED.value:
        order.status = (
            OrderStatus.PARTIALLY_REFUNDED.value if partially else OrderStatus.REFUNDED.value
        )
    order.updated_at = now
    session.flush()
    return order


def cancel_order(
    session: Session,
    user: User,
    order_id: str,
    *,
    now: dt.datetime,
    refund: RefundIssuer | None = None,
) -> OrderView:
    """Buyer or operator, before anything is dispatched: stock comes back; a paid order is refunded
    through `refund` (the payments package), and without one it stays as it is (409)."""
    view = get_order(session, user, order_id, now=now)
    if not (view.whole and (user.is_operator or view.order.buyer_id == user.id)):
        raise Forbidden(
            _("Only the buyer or an operator may cancel an order."), code="cancel_forbidden"
        )
    order = _locked(session, order_id)
    _require_status(order, "cancel", OrderStatus.PENDING_PAYMENT, OrderStatus.PAID)
    if order.status == OrderStatus.PAID.value:
        if refund is None:
            raise RefundUnavailable()
        refund(session, order)
    order.status = OrderStatus.CANCELLED.value
    order.cancelled_at = now
    order.updated_at = now
    session.execute(
        update(Shipment)
        .where(Shipment.order_id == order.id)
        .values(status=ShipmentStatus.CANCELLED.value)
        .execution_options(synchronize_session="fetch")
    )
    _release_stock(session, [order.id])
    session.flush()
    return view


def _locked(session: Session, order_id: str) -> Order:
    order = session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound()
    return order


def _require_status(order: Order, action: str, *allowed: OrderStatus) -> None:
    if order.status not in {status.value for status in allowed}:
        raise InvalidTransition(
            _("An order that is %(status)s cannot be changed this way.", status=order.status),
            extra={"order_status": order.status, "action": action},
        )


# ---------------------------------------------------------------------------------------------
# Reading orders


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
    orders, next_cursor = _keyset(session, query, Order, limit, cursor)
    return Page(_views(session, user, orders, now), next_cursor)


def _views(
    session: Session, user: User, orders: Sequence[Order], now: dt.datetime
) -> list[OrderView]:
    """Views of several orders in a constant number of queries (shipments, lines, fx)."""
    if not orders:
        return []
    due = [
        o.id
        for o in orders
        if o.status == OrderStatus.PENDING_PAYMENT.value and o.expires_at <= now
    ]
    if due:
        expire_due(session, now, due)
    ids = [order.id for order in orders]
    sellers: set[str] = set()
    if not user.is_operator and any(order.buyer_id != user.id for order in orders):
        sellers = set(accounts.organisation_ids(session, user.id, OrganisationKind.SELLER))
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
        whole = user.is_operator or order.buyer_id == user.id
        visible = [s for s in shipments[order.id] if whole or s.seller_id in sellers]
        if not visible:
            continue
        visible_ids = {s.id for s in visible}
        views.append(
            OrderView(
                order=order,
                shipments=visible,
                lines=[line for line in lines[order.id] if line.shipment_id in visible_ids],
                fx=fx[order.id],
                whole=whole,
            )
        )
    return views


# ---------------------------------------------------------------------------------------------
# Shipments


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
    order = shipment.order
    if order.status == OrderStatus.PENDING_PAYMENT.value and order.expires_at <= now:
        expire_due(session, now, [order.id])
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
    shipments, next_cursor = _keyset(session, query, Shipment, limit, cursor)
    due = {
        s.order.id
        for s in shipments
        if s.order.status == OrderStatus.PENDING_PAYMENT.value and s.order.expires_at <= now
    }
    if due:
        expire_due(session, now, sorted(due))
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


def dispatch(
    session: Session,
    user: User,
    shipment_id: str,
    *,
    carrier: str,
    tracking_number: str,
    now: dt.datetime,
) -> ShipmentView:
    """A seller member hands a paid shipment to the carrier; the order follows (partially) shipped."""
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound()
    accounts.require_member(session, user, shipment.seller_id, OrganisationKind.SELLER)
    order = _locked(session, shipment.order_id)
    session.refresh(shipment)
    if shipment.status != ShipmentStatus.READY.value:
        raise InvalidTransition(
            _("A shipment that is %(status)s cannot be dispatched.", status=shipment.status),
            extra={"shipment_status": shipment.status, "action": "dispatch"},
        )
    _require_status(order, "dispatch", OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
    shipment.status = ShipmentStatus.DISPATCHED.value
    shipment.carrier = carrier
    shipment.tracking_number = tracking_number
    shipment.dispatched_at = now
    session.flush()
    waiting = session.scalar(
        select(func.count())
        .select_from(Shipment)
        .where(Shipment.order_id == order.id, Shipment.status == ShipmentStatus.READY.value)
    )
    order.status = (OrderStatus.PARTIALLY_SHIPPED if waiting else OrderStatus.SHIPPED).value
    order.updated_at = now
    session.flush()
    return get_shipment(session, user, shipment.id, now=now)


def designate_broker(
    session: Session, user: User, shipment_id: str, brokerage_id: str, *, now: dt.datetime
) -> ShipmentView:
    """The buyer or the seller names the customs brokerage that may now read the shipment."""
    view = get_shipment(session, user, shipment_id, now=now)
    sellers = accounts.organisation_ids(session, user.id, OrganisationKind.SELLER)
    if view.order.buyer_id != user.id and view.shipment.seller_id not in sellers:
        raise Forbidden(
            _("Only the buyer or the seller may choose the customs broker."),
            code="broker_forbidden",
        )
    if view.shipment.status == ShipmentStatus.CANCELLED.value:
        raise InvalidTransition(
            _("A shipment that is %(status)s cannot be changed.", status=view.shipment.status),
            extra={"shipment_status": view.shipment.status, "action": "designate_broker"},
        )
    view.shipment.brokerage_id = _brokerage_for(session, brokerage_id, view.shipment.to_country)
    session.flush()
    return view


# ---------------------------------------------------------------------------------------------
# Keyset pagination: newest first by (created_at, id); cursors survive inserts and deletes.


def _keyset(
    session: Session, query: Any, model: type[Order] | type[Shipment], limit: int, after: str | None
) -> tuple[list[Any], str | None]:
    kind = model.__tablename__
    if after:
        moment, row_id = pagination.decode_moment(after, kind)
        query = query.where(
            or_(model.created_at < moment, and_(model.created_at == moment, model.id < row_id))
        )
    rows = list(
        session.scalars(
            query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
        ).unique()
    )
    return pagination.page(
        rows, limit, lambda last: pagination.encode_moment(kind, last.created_at, last.id)
    )
