"""The one pricing path: what a basket costs delivered, for a quote, a cart and an order alike.

`price` prices lines the way an order is priced (goods converted and rounded once per unit,
shipping from each seller's price list, duties and taxes per shipment from the customs engine)
and is what placing an order, reading a cart and completing one all call; the catalogue's
estimate for one listing is priced the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, select
from sqlalchemy.orm import Session

from marketplace.catalogue import browse, texts
from marketplace.customs import landed_cost as customs
from marketplace.customs import quotes, rule_records
from marketplace.customs.declaration import ServiceClass, form_for, upu_threshold
from marketplace.customs.landed_cost import Incoterm
from marketplace.customs.models import CustomsRule
from marketplace.customs.rule_records import RulesInForce
from marketplace.errors import DomainError
from marketplace.money import MissingRate, Money, RateTable
from marketplace.money import services as money
from marketplace.orders import allowance
from marketplace.orders import placing as orders
from marketplace.orders.landed_cost import LandedCostEstimator, ShipmentForCustoms


def price(
    session: Session,
    request: orders.OrderRequest,
    *,
    rates: RateTable,
    now: dt.datetime,
    max_rate_age: dt.timedelta | None,
    locales: tuple[str, ...] = (),
    basket: orders.Basket | None = None,
    buyer_id: str | None = None,
    rules: RulesInForce | None = None,
) -> orders.PricedOrder:
    """Price `request` with `rates` on `now`'s day; nothing is recorded and no stock is taken.

    Raises what an order placement raises for lines that cannot be ordered (keyed
    `lines.N.listing_id`) and for missing or stale rates; titles are taken in `locales`.
    `basket` is what was already read for the lines, if anything (see `orders.load_basket`);
    with the buyer known, a per-period allowance counts what they used of it (see the estimator).
    `rules` may hold the destination's record already read (see `in_force`).
    """
    country = request.ship_to["country"]
    ids = {line.listing_id for line in request.lines}
    if basket is None or not basket.covers(ids, country):
        basket = orders.load_basket(session, ids, country)
    titles = texts.titles_in(
        session, [basket.listings[i] for i in sorted(ids) if i in basket.listings], locales
    )
    return orders.price_order(
        session,
        request,
        rates=rates,
        now=now,
        max_rate_age=max_rate_age,
        estimate=landed_cost_estimator(rates, now.date(), buyer_id, rules),
        titles=titles,
        basket=basket,
    )


class InForce(NamedTuple):
    """What prices a basket on a day: the rates in force and the destination's customs record."""

    rates: RateTable
    rules: RulesInForce


class InForceIds(NamedTuple):
    """What `in_force_columns` read: the current rate set's id, and the id and version of the
    destination's record in force (None where there is none)."""

    rate_set_id: str | None
    rule_id: str | None
    rule_updated_at: dt.datetime | None


def in_force_columns(country: ColumnElement[str]) -> list[ScalarSelect[Any]]:
    """The columns of `InForceIds` for `country` on `:on`, to add to a statement that is run
    anyway (every cart read and order needs both, and each statement is a round trip)."""
    record = rule_records.in_force_query(country)
    return [
        money.current_set_statement().scalar_subquery(),
        record.with_only_columns(CustomsRule.id).scalar_subquery(),
        record.with_only_columns(CustomsRule.updated_at).scalar_subquery(),
    ]


@functools.cache
def _in_force_statement() -> Select[str | None, str | None, dt.datetime | None]:
    """`in_force_columns` alone, for `:country`; built once."""
    return select(*in_force_columns(bindparam("country")))


def in_force(session: Session, country: str, on: dt.date) -> InForce:
    """The rate table in force and the record covering `country` on `on`, read in one statement.

    409 `rates_unavailable` before any rates were loaded; a destination without a record is
    refused by the estimate that needs it (as `rule_records.rule_in_force` would).
    """
    ids = InForceIds(*session.execute(_in_force_statement(), {"country": country, "on": on}).one())
    return in_force_of(session, country, on, ids)


def in_force_of(session: Session, country: str, on: dt.date, ids: InForceIds) -> InForce:
    """What `ids` name, read by the caller's own statement (see `in_force_columns`)."""
    if ids.rate_set_id is None:
        raise money.RatesUnavailable()
    rules = RulesInForce()
    version = (
        None
        if ids.rule_id is None or ids.rule_updated_at is None
        else (ids.rule_id, ids.rule_updated_at)
    )
    rules.know(session, country, on, version)
    return InForce(money.table_of_set(session, ids.rate_set_id), rules)


class QuoteLine(NamedTuple):
    """A line of a basket to quote; without `variant_id`, a listing of several variants is
    quoted as its first."""

    listing_id: str
    quantity: int
    variant_id: str | None = None


def quote(
    session: Session,
    *,
    destination: str,
    lines: Sequence[QuoteLine],
    incoterm: Incoterm,
    on: dt.date,
    rates: RateTable,
    currency: str | None = None,
) -> quotes.BasketQuote:
    """A basket priced exactly as its order would be (goods converted per unit and rounded once,
    shipping from the sellers' price lists, duties and taxes per shipment), with each shipment's
    full customs estimate. A seller with no shipping rate there ships for nothing in the quote,
    and `shipping_known` says so."""
    found = quotes.basket_listings(
        session, destination=destination, ids=[line.listing_id for line in lines]
    )
    wanted: dict[tuple[str, str | None], int] = {}
    for line in lines:  # a listing (or variant) named twice is one line, as in a cart
        key = (line.listing_id, line.variant_id)
        wanted[key] = wanted.get(key, 0) + line.quantity
    requested = currency or found[lines[0].listing_id].price.currency
    priced = orders.price_order(
        session,
        orders.OrderRequest(
            currency=requested,
            lines=[
                orders.LineRequest(listing_id, qty, variant_id)
                for (listing_id, variant_id), qty in wanted.items()
            ],
            ship_to={"country": destination},
            incoterm=incoterm,
            first_variant=True,  # a listing of several variants is quoted as its first
        ),
        rates=rates,
        now=dt.datetime.combine(on, dt.time(12), tzinfo=dt.UTC),
        estimate=landed_cost_estimator(rates, on),
        unknown_shipping_free=True,
    )
    totals = priced.totals
    zero = Money.zero(requested)
    collected = sum(
        (Money.from_minor(s.collected_minor, requested) for s in priced.shipments), zero
    )
    charges = totals.duties + totals.taxes
    return quotes.BasketQuote(
        destination=destination,
        currency=requested,
        incoterm=incoterm,
        date=on,
        shipping_known=not priced.unknown_shipping,
        shipments=tuple(
            quotes.ShipmentQuote(shipment.seller_id, shipment.from_country, estimate)
            for shipment, estimate in zip(priced.shipments, priced.landed_costs, strict=True)
        ),
        totals=quotes.QuoteTotals(
            goods=totals.goods,
            shipping=totals.shipping,
            duties=totals.duties,
            taxes=totals.taxes,
            duties_and_taxes=charges,
            payable_at_checkout=collected,
            due_on_delivery=charges - collected,
            landed_cost=totals.goods + totals.shipping + charges,
        ),
    )


def needs_cn23(rates: RateTable, parcels: Sequence[tuple[ServiceClass, Money]]) -> bool:
    """Some parcel travels with a CN 23 (parcel post always; letter post from the CN 22 line,
    unknowable, so False, when the rates have no SDR)."""
    sdr = upu_threshold().below.currency
    has_sdr = rates.base == sdr or sdr in rates.rates
    return any(
        form_for(service, value, rates) == "CN23"
        for service, value in parcels
        if has_sdr or service is not ServiceClass.LETTER_POST
    )


def contents(priced: orders.PricedOrder) -> list[tuple[ServiceClass, Money]]:
    """How each border-crossing parcel of a priced order travels and what it holds, as customs
    forms count it (a parcel the engine found to stay in one customs territory takes no form)."""
    return [
        (ServiceClass(s.service_class), Money.from_minor(s.goods_minor, s.currency))
        for s, landed in zip(priced.shipments, priced.landed_costs, strict=True)
        if not any(note.code == "domestic" for note in landed.explanations)
    ]


def landed_cost_estimator(
    rates: RateTable,
    on: dt.date,
    buyer_id: str | None = None,
    rules: RulesInForce | None = None,
) -> LandedCostEstimator:
    """The customs engine, estimating each parcel with the order's rates on the order's day.

    A destination whose allowance is per period (Uzbekistan: a month) is told what the parcels
    of this order estimated before used of it (each seller's parcel arrives on its own, and all
    count) and, with the buyer known, what the buyer's earlier paid orders there used.
    """
    this_order: list[Money] = []  # goods + shipping of the parcels estimated so far
    # The parcels of one order share their destination's record: it is read once.
    rules = rules or RulesInForce()

    def run(
        session: Session, shipment: ShipmentForCustoms, used: Money | None
    ) -> customs.LandedCost:
        return customs.estimate_landed_cost(
            session,
            customs.LandedCostInput(
                destination=shipment.to_country,
                date=on,
                incoterm=shipment.incoterm,
                lines=[
                    customs.ShipmentLine(
                        item.hs_code,
                        item.origin_country,
                        item.unit_value,
                        item.quantity,
                        item.unit_weight_grams,
                    )
                    for item in shipment.items
                ],
                shipping=shipment.shipping,
                currency=shipment.currency,
                ship_from=shipment.from_country,
                allowance_used=used,
            ),
            rates,
            rules=rules,
        )

    def estimate(session: Session, shipment: ShipmentForCustoms) -> customs.LandedCost:
        result = run(session, shipment, None)
        # Only where the engine asks for it (a per-period allowance), count what was used and
        # estimate again: other destinations cost no extra query.
        window = result.allowance_window
        if window is not None and (buyer_id is not None or this_order):
            # This order's earlier parcels count for anyone (a quote too); paid orders need a buyer.
            used = Money.zero(shipment.currency)
            earlier = (
                allowance.paid_to(session, buyer_id, shipment.to_country, *window)
                if buyer_id is not None
                else []
            )
            for value in [*earlier, *this_order]:
                used = used + rates.convert(value, shipment.currency)
            result = run(session, shipment, used)
        goods = sum((item.total_value for item in shipment.items), Money.zero(shipment.currency))
        this_order.append(goods + shipment.shipping)
        return result

    return estimate


def catalogue_item(
    session: Session,
    listing_id: str,
    *,
    locale: str,
    currency: str | None,
    rates: RateTable | None,
    ship_to: str | None,
    on: dt.date,
    fallbacks: Sequence[str] = (),
) -> tuple[browse.CatalogueItem, quotes.BasketQuote | DomainError | None]:
    """One published listing and, with `ship_to`, the quote for one unit delivered there (DDP,
    in the display currency) or the reason there is none (no rule for that country, not shipped
    there, no exchange rates)."""
    found = browse.item(
        session, listing_id, locale=locale, currency=currency, rates=rates, fallbacks=fallbacks
    )
    if ship_to is None:
        return found, None
    try:
        if rates is None:
            raise MissingRate()
        return found, quote(
            session,
            destination=ship_to,
            lines=[QuoteLine(found.id, 1)],
            incoterm=Incoterm.DDP,
            on=on,
            rates=rates,
            currency=currency or found.list_price.currency,
        )
    except DomainError as error:
        return found, error
