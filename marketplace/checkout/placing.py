"""Placing and cancelling orders: where orders meet current rates (money), landed cost (customs)
and refunds (payments). The orders services take all three as parameters, so tests and
benchmarks can pass their own; the views call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalogue import texts
from marketplace.customs import addresses
from marketplace.customs import landed_cost as customs
from marketplace.customs.declaration import choose_form, upu_threshold
from marketplace.i18n import use_locale
from marketplace.money import Money, RateTable
from marketplace.money import services as money
from marketplace.orders import services
from marketplace.orders.landed_cost import LandedCost, LandedCostEstimator, ShipmentForCustoms
from marketplace.payments import order_payments
from marketplace.payments import services as payments
from marketplace.payments.gateway import PaymentGateway
from marketplace.payments.services import Listeners


def landed_cost_estimator(rates: RateTable, on: dt.date) -> LandedCostEstimator:
    """The customs engine, estimating each parcel with the order's rates on the order's day."""

    def estimate(session: Session, shipment: ShipmentForCustoms) -> LandedCost:
        result = customs.estimate_landed_cost(
            session,
            customs.LandedCostInput(
                destination=shipment.to_country,
                date=on,
                incoterm=customs.Incoterm(shipment.incoterm),
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
            ),
            rates,
        )
        duties, taxes = result.duties.requested, result.taxes.requested
        # Converted separately, checkout and delivery parts could miss their sum by a minor unit:
        # the checkout part is taken as given and bounded, the delivery part is what remains.
        collected = min(result.payable_at_checkout.requested, duties + taxes)
        if shipment.incoterm == customs.Incoterm.DDP.value:
            collected = duties + taxes
        return LandedCost(
            duties=duties,
            taxes=taxes,
            collected=collected,
            de_minimis=any(
                threshold is not None and threshold.applied
                for threshold in (result.duty_de_minimis, result.tax_de_minimis)
            ),
            detail=_explained(result),
        )

    return estimate


def _explained(result: customs.LandedCostEstimate) -> dict[str, object]:
    """What the engine applied, stored with the shipment (explanations in English)."""
    with use_locale("en"):
        return {
            "rule": None
            if result.rule is None
            else {
                "id": result.rule.id,
                "name": result.rule.name,
                "source": result.rule.source,
                "valid_from": result.rule.valid_from.isoformat(),
                "checked_on": result.rule.checked_on.isoformat(),
            },
            "local_currency": result.currency,
            "duties_local": result.duties.local.to_api(),
            "taxes_local": result.taxes.local.to_api(),
            "collected_at_sale": result.collected_at_sale,
            "explanations": [
                {"code": note.code, "text": str(note.text)} for note in result.explanations
            ],
        }


def place_order(
    session: Session,
    buyer: User,
    request: services.OrderRequest,
    *,
    now: dt.datetime,
    reservation: dt.timedelta,
    max_rate_age: dt.timedelta,
    locales: tuple[str, ...] = (),
) -> services.OrderView:
    """An order priced with today's rates (copied onto it) and each parcel's landed cost,
    refusing (422 `address_incomplete`) a `ship_to` its parcels cannot travel on; its lines keep
    their titles in the buyer's `locales` (best first) too."""
    addresses.require_complete(request.ship_to)
    rates = money.current_table(session)
    titles = texts.titles_in(session, {line.listing_id for line in request.lines}, locales)
    view = services.place_order(
        session,
        buyer,
        request,
        rates=rates,
        now=now,
        reservation=reservation,
        max_rate_age=max_rate_age,
        estimate=landed_cost_estimator(rates, now.date()),
        titles=titles,
    )
    if needs_cn23(rates, [Money.from_minor(s.goods_minor, s.currency) for s in view.shipments]):
        addresses.require_complete(request.ship_to, cn23=True)  # the view's rollback undoes it all
    return view


def needs_cn23(rates: RateTable, contents: list[Money]) -> bool:
    """Some parcel travels with a CN 23; unknowable (False) when the rates have no SDR."""
    sdr = upu_threshold().below.currency
    if rates.base != sdr and sdr not in rates.rates:
        return False
    return any(choose_form(value, rates) == "CN23" for value in contents)


def cancel_order(
    session: Session,
    user: User,
    order_id: str,
    *,
    now: dt.datetime,
    gateways: Mapping[str, PaymentGateway],
    listeners: Listeners,
) -> services.OrderView:
    """Cancel an order and the bank transfers it still awaits; a paid one gets back all that
    remains through the gateway it was paid with (the order's ledger and status follow the
    payment listeners)."""
    refund = order_payments.refund_cancelled_order(gateways, listeners)
    view = services.cancel_order(session, user, order_id, now=now, refund=refund)
    payments.cancel_pending_transfers(session, gateways, order_id)
    return view
