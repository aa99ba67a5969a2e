"""Placing an order: prices, rates, shipping, landed cost and stock, in one transaction.

Lines are grouped per seller into shipments; each unit price is converted once with the rates
passed in (copied onto the order), shipping is priced by weight, the landed cost of each parcel
comes from the estimator passed in, and stock is reserved through the catalogue, all lines or
none.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, bindparam, func, null, select, union_all
from sqlalchemy.orm import Session, defer, joinedload, raiseload

from marketplace.accounts.models import Organisation, OrganisationKind, User
from marketplace.catalogue import stock
from marketplace.catalogue.models import Listing, ListingStatus, ListingVariant
from marketplace.catalogue.texts import ReaderTexts
from marketplace.customs.landed_cost import LandedCost
from marketplace.errors import Invalid
from marketplace.i18n import _
from marketplace.money import Money, RateTable
from marketplace.money.rates import ensure_fresh
from marketplace.orders import shipping
from marketplace.orders.errors import (
    ListingUnavailable,
    NotShippedTo,
    ReservationLimit,
    TooManyUnpaidOrders,
)
from marketplace.orders.landed_cost import CustomsItem, LandedCostEstimator, ShipmentForCustoms
from marketplace.orders.models import (
    Incoterm,
    Order,
    OrderFx,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    ShippingRate,
)
from marketplace.orders.queries import OrderView, Totals, totals_of
from marketplace.outbox import LOW_STOCK_AT, EventType, record

_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


@dataclass(frozen=True)
class HoardingLimits:
    """How much stock one buyer may hold in unpaid orders, so nobody can hold all of a listing."""

    unpaid_orders: int
    units_per_listing: int


@dataclass(frozen=True)
class LineRequest:
    listing_id: str
    quantity: int
    # Needed when the listing offers several variants; None: its only one.
    variant_id: str | None = None


@dataclass(frozen=True)
class OrderRequest:
    currency: str
    lines: Sequence[LineRequest]
    ship_to: Mapping[str, Any]
    incoterm: Incoterm = Incoterm.DAP
    broker_id: str | None = None
    # A quote or estimate of a listing with several variants prices its first (orders never).
    first_variant: bool = False


@dataclass(frozen=True)
class Basket:
    """What pricing reads for a destination: the listings with their destinations, and their
    sellers with the shipping row each has there (see `load_basket`)."""

    country: str
    listings: Mapping[str, Listing]
    sellers: Mapping[str, Organisation]
    price_lists: Mapping[str, shipping.RateRow]

    def covers(self, listing_ids: Iterable[str], country: str) -> bool:
        return country == self.country and set(listing_ids) <= set(self.listings)


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
    listings: Mapping[str, Listing] = field(default_factory=dict)  # as read before reservation
    landed_costs: list[LandedCost] = field(default_factory=list)  # one per shipment, in order
    variants: Mapping[str, ListingVariant] = field(default_factory=dict)  # of the lines, by id

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
    estimate: LandedCostEstimator,
    titles: ReaderTexts | None = None,
    unknown_shipping_free: bool = False,
    basket: Basket | None = None,
) -> PricedOrder:
    """Price an order without recording it or touching stock.

    Raises 422s for lines that cannot be ordered to the destination (all lines reported at once,
    keyed `lines.N.listing_id`), `rate_missing` for a currency without a rate, 409 `rate_stale`
    when a rate the order needs is older than `max_rate_age`. `titles` holds each listing's
    (title, locale) and options in the buyer's language, kept on its line. A seller without a shipping rate
    to the destination is a 422 `no_shipping_rate`, or with `unknown_shipping_free` (a quote)
    ships for nothing and is named in `unknown_shipping`. `basket` may hold what was already
    read for these lines (`load_basket`), so it is not read twice.
    """
    country = request.ship_to["country"]
    currency = request.currency
    rates.rate(currency)  # an order currency without a rate is refused before anything else
    _check_lines(request.lines)
    if basket is None or not basket.covers((line.listing_id for line in request.lines), country):
        basket = load_basket(session, {line.listing_id for line in request.lines}, country)
    listings, chosen = _orderable_listings(
        request.lines, country, basket.listings, first_variant=request.first_variant
    )
    sellers = {
        listing.seller_id: basket.sellers[listing.seller_id] for listing in listings.values()
    }
    price_lists = {
        seller_id: row for seller_id, row in basket.price_lists.items() if seller_id in sellers
    }
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
    brokerage_id = brokerage_for(session, request.broker_id, country)

    order = Order(
        number=_new_number(),
        status=OrderStatus.PENDING_PAYMENT,
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
    landed_costs: list[LandedCost] = []
    for position, (seller_id, seller_lines) in enumerate(by_seller.items()):
        shipment, shipment_lines, landed = _price_shipment(
            session,
            order,
            position,
            sellers[seller_id],
            [
                (index, line, listings[line.listing_id], chosen[index])
                for index, line in seller_lines
            ],
            price_lists[seller_id],
            rates,
            estimate,
            brokerage_id,
            titles or ReaderTexts({}),
        )
        shipments.append(shipment)
        lines.extend(shipment_lines)
        landed_costs.append(landed)
    lines.sort(key=lambda line: line.position)

    priced = PricedOrder(
        order,
        shipments,
        lines,
        seller_currencies,
        unknown,
        listings,
        landed_costs,
        {variant.id: variant for variant in chosen},
    )
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
    limits: HoardingLimits | None = None,
) -> OrderView:
    """Reserve the stock of a priced order and record it, as priced, for `buyer`.

    Raises 409 `insufficient_stock` listing every short line (nothing is reserved then), and
    409 `too_many_unpaid_orders` or `reservation_limit` beyond the buyer's `limits`.
    """
    if limits is not None:
        lines = [LineRequest(line.listing_id, line.quantity) for line in priced.lines]
        _check_hoarding(session, buyer, lines, limits, now)
    order = priced.order
    order.buyer_id = buyer.id
    order.expires_at = now + reservation
    wanted: dict[str, int] = {}
    for line in priced.lines:
        assert line.variant_id is not None
        wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    # Each variant's stock and threshold as read before the reservation.
    stock_before = {
        variant_id: (variant, priced.listings[variant.listing_id])
        for variant_id, variant in priced.variants.items()
        if variant_id in wanted
    }
    stock.reserve(session, wanted)
    # The engine's English record is written only for what is kept (a cart read never is).
    for shipment, landed in zip(priced.shipments, priced.landed_costs, strict=True):
        shipment.landed_cost = landed.record()
    session.add(order)  # shipments and lines come along through their relationships
    session.flush()
    record(session, EventType.ORDER_PLACED, order_id=order.id)
    _record_low_stock(session, stock_before, wanted)
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
    estimate: LandedCostEstimator,
    max_rate_age: dt.timedelta | None = None,
    limits: HoardingLimits | None = None,
) -> OrderView:
    """Price, reserve and record an order in one transaction; nothing is kept if anything fails."""
    priced = price_order(
        session, request, rates=rates, now=now, max_rate_age=max_rate_age, estimate=estimate
    )
    return record_order(session, buyer, priced, now=now, reservation=reservation, limits=limits)


def _record_low_stock(
    session: Session,
    stock_before: Mapping[str, tuple[ListingVariant, Listing]],
    taken: Mapping[str, int],
) -> None:
    """A variant this order took to its low-stock threshold or below (the variant's, else the
    listing's, else LOW_STOCK_AT units) gets one `listing.low_stock`."""
    for variant_id, (variant, listing) in sorted(stock_before.items()):
        before = variant.stock  # as read before the reservation (the UPDATE did not sync it)
        left = before - taken[variant_id]
        threshold = variant.effective(listing)[3]
        at = LOW_STOCK_AT if threshold is None else threshold
        if left <= at < before:
            record(
                session,
                EventType.LISTING_LOW_STOCK,
                listing_id=listing.id,
                variant_id=variant_id,
                sku=variant.sku,
                seller_id=listing.seller_id,
                stock=left,
            )


@functools.cache
def _held_statement() -> CompoundSelect[str | None, int]:
    """One statement for both limits, built once: the units of each wanted listing the buyer's
    unpaid orders hold, then (listing None) how many unpaid orders they have. Summed in the
    database: a row per listing, however many orders there are."""
    unpaid = and_(
        Order.buyer_id == bindparam("buyer_id"),
        Order.status == OrderStatus.PENDING_PAYMENT,
        Order.expires_at > bindparam("now"),
    )
    held = (
        select(OrderLine.listing_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(unpaid, OrderLine.listing_id.in_(bindparam("listing_ids", expanding=True)))
        .group_by(OrderLine.listing_id)
    )
    return union_all(held, select(null().label("listing_id"), func.count(Order.id)).where(unpaid))


def _check_hoarding(
    session: Session,
    buyer: User,
    lines: Sequence[LineRequest],
    limits: HoardingLimits,
    now: dt.datetime,
) -> None:
    """Refuse an order that would let one buyer hold too much stock unpaid.

    The buyer's row is locked first, so two orders of one buyer at once are counted one after
    the other (SQLite's write lock does the same).
    """
    session.execute(select(User.id).where(User.id == buyer.id).with_for_update())
    wanted: dict[str, int] = {}
    for line in lines:
        wanted[line.listing_id] = wanted.get(line.listing_id, 0) + line.quantity
    unpaid_orders = 0
    held: dict[str, int] = {}
    for listing_id, amount in session.execute(
        _held_statement(),
        {"buyer_id": buyer.id, "now": now, "listing_ids": sorted(wanted)},
    ):
        if listing_id is None:
            unpaid_orders = int(amount)
        else:
            held[listing_id] = int(amount)
    if unpaid_orders >= limits.unpaid_orders:
        raise TooManyUnpaidOrders(extra={"limit": limits.unpaid_orders})
    over = [
        {"listing_id": listing_id, "requested": quantity, "held": held.get(listing_id, 0)}
        for listing_id, quantity in sorted(wanted.items())
        if quantity + held.get(listing_id, 0) > limits.units_per_listing
    ]
    if over:
        raise ReservationLimit(extra={"lines": over, "limit": limits.units_per_listing})


def _check_lines(requested: Sequence[LineRequest]) -> None:
    if not requested:
        raise Invalid(errors={"lines": [_("An order needs at least one line.")]})
    errors: dict[str, list[Any]] = {}
    for index, line in enumerate(requested):
        if line.quantity < 1:
            errors[f"lines.{index}.quantity"] = [_("Must be at least 1.")]
    if errors:
        raise Invalid(errors=errors)


def _orderable_listings(
    requested: Sequence[LineRequest],
    country: str,
    listings: Mapping[str, Listing],
    *,
    first_variant: bool = False,
) -> tuple[dict[str, Listing], list[ListingVariant]]:
    """The lines' listings by id and each line's variant (in line order), or the 422s of every
    line that cannot be ordered."""
    errors: dict[str, list[Any]] = {}
    unavailable: dict[str, list[Any]] = {}
    unchosen: dict[str, list[Any]] = {}  # a listing of several variants named without one
    not_shipped: dict[str, list[Any]] = {}
    chosen: list[ListingVariant] = []
    seen: set[str] = set()
    for index, line in enumerate(requested):
        listing = listings.get(line.listing_id)
        if listing is None or listing.status != ListingStatus.PUBLISHED:
            unavailable[f"lines.{index}.listing_id"] = [_("No published listing has this id.")]
            continue
        variant = resolve_variant(listing, line.variant_id, first=first_variant)
        if variant is None and line.variant_id is None:
            unchosen[f"lines.{index}.variant_id"] = [_("Choose one of this listing's variants.")]
        elif variant is None:
            unavailable[f"lines.{index}.variant_id"] = [
                _("This listing offers no variant with this id.")
            ]
        elif variant.id in seen:
            errors[f"lines.{index}.variant_id"] = [_("This variant is already in another line.")]
        elif not _ships_to(listing, country):
            not_shipped[f"lines.{index}.listing_id"] = [
                _("This listing is not shipped to %(country)s.", country=country)
            ]
        if variant is not None:
            seen.add(variant.id)
            chosen.append(variant)
    if unavailable or unchosen:
        raise ListingUnavailable(
            code=None if unavailable else "variant_required",
            errors={**unavailable, **unchosen, **not_shipped},
        )
    if errors:
        raise Invalid(errors=errors)
    if not_shipped:
        raise NotShippedTo(errors=not_shipped)
    return {line.listing_id: listings[line.listing_id] for line in requested}, chosen


def resolve_variant(
    listing: Listing, variant_id: str | None, *, first: bool = False
) -> ListingVariant | None:
    """The variant a buyer chose: the one named (if the listing offers it), else the listing's
    only one (or, with `first`, its first); None when the choice is missing or unknown."""
    offered = listing.offered
    if variant_id is None:
        return offered[0] if offered and (len(offered) == 1 or first) else None
    return next((variant for variant in offered if variant.id == variant_id), None)


def load_listings(session: Session, ids: Iterable[str]) -> dict[str, Listing]:
    """Listings by id with their destinations and variants, in one statement."""
    return {
        listing.id: listing
        for listing in session.scalars(
            select(Listing)
            .where(Listing.id.in_(set(ids)))
            .options(joinedload(Listing.destinations), joinedload(Listing.variants))
        ).unique()
    }


@functools.cache
def _basket_statement() -> Select[Listing, Organisation, ShippingRate]:
    """Built once: every cart read and order runs it, and building it costs more than running it."""
    return (
        select(Listing, Organisation, ShippingRate)
        .join(Organisation, Organisation.id == Listing.seller_id)
        .outerjoin(
            ShippingRate,
            and_(
                ShippingRate.seller_id == Organisation.id,
                ShippingRate.country.in_(bindparam("countries", expanding=True)),
            ),
        )
        .where(Listing.id.in_(bindparam("ids", expanding=True)))
        .options(
            joinedload(Listing.destinations),
            joinedload(Listing.variants),
            raiseload(Organisation.served_countries),
            # Pricing never reads them, and they are a listing's longest columns (every
            # translation's description, folded, for search).
            defer(Listing.description),
            defer(Listing.search_text),
        )
    )


def load_basket(session: Session, ids: Iterable[str], country: str) -> Basket:
    """The listings by id with their destinations, and their sellers with the shipping rows
    that may apply to `country` (its own and "*"), in one statement."""
    listings: dict[str, Listing] = {}
    sellers: dict[str, Organisation] = {}
    rows: list[tuple[Organisation, ShippingRate | None]] = []
    for listing, seller, row in session.execute(
        _basket_statement(), {"ids": sorted(set(ids)), "countries": [country, shipping.EVERYWHERE]}
    ).unique():
        listings[listing.id] = listing
        sellers[seller.id] = seller
        rows.append((seller, row))
    return Basket(country, listings, sellers, shipping.applicable_rows(rows))


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


def brokerage_for(session: Session, brokerage_id: str | None, country: str) -> str | None:
    if brokerage_id is None:
        return None
    brokerage = session.get(Organisation, brokerage_id)
    if brokerage is None or brokerage.kind != OrganisationKind.BROKERAGE:
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
    items: Sequence[tuple[int, LineRequest, Listing, ListingVariant]],
    price_list: shipping.RateRow,
    table: RateTable,
    estimate: LandedCostEstimator,
    brokerage_id: str | None,
    texts: ReaderTexts,
) -> tuple[Shipment, list[OrderLine], LandedCost]:
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
    for index, request, listing, variant in items:
        price_minor, grams, hs_code, _threshold = variant.effective(listing)
        unit_seller = Money.from_minor(price_minor, listing.currency)
        unit = table.convert(unit_seller, currency)
        total = unit * request.quantity
        goods_seller += table.convert(unit_seller, seller_currency) * request.quantity
        goods += total
        weight += grams * request.quantity
        customs_items.append(
            CustomsItem(hs_code, listing.origin_country, request.quantity, unit, grams)
        )
        buyer_title, buyer_locale = texts.titles.get(listing.id, (listing.title, listing.language))
        lines.append(
            OrderLine(
                position=index,
                listing_id=listing.id,
                variant_id=variant.id,
                sku=variant.sku,
                options=dict(variant.options),
                buyer_options=texts.options_of(listing, variant.options),
                title=listing.title,
                language=listing.language,
                buyer_title=buyer_title,
                buyer_locale=buyer_locale,
                hs_code=hs_code,
                origin_country=listing.origin_country,
                weight_grams=grams,
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
        status=ShipmentStatus.AWAITING_PAYMENT,
        incoterm=order.incoterm,
        from_country=seller.country,
        to_country=order.ship_to_country,
        weight_grams=weight,
        currency=currency,
        goods_minor=goods.minor,
        shipping_minor=shipping_cost.minor,
        duties_minor=landed.duties.requested.minor,
        taxes_minor=landed.taxes.requested.minor,
        collected_minor=landed.collected.minor,
        seller_currency=seller_currency,
        goods_seller_minor=goods_seller.minor,
        shipping_seller_minor=table.convert(exact_shipping, seller_currency).minor,
        de_minimis=landed.de_minimis.relieved,
        service_class=price_list.service_class,
        created_at=order.created_at,
    )
    shipment.order = order
    for line in lines:
        line.shipment = shipment
        line.order = order
    return shipment, lines, landed


def _check_landed_cost(landed: LandedCost, currency: str) -> None:
    duties, taxes = landed.duties.requested, landed.taxes.requested
    for amount in (duties, taxes, landed.collected):
        if amount.currency != currency or not amount.is_quantized() or amount.is_negative():
            raise ValueError(f"landed-cost estimate {amount} is not a rounded {currency} amount")
    if landed.collected > duties + taxes:
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


def _new_number() -> str:
    chars = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(10))
    return f"SR-{chars[:5]}-{chars[5:]}"
