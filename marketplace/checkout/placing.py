"""Placing and cancelling orders: where orders meet current rates (money), landed cost (customs)
and refunds (payments). The orders services take all three as parameters, so tests and
benchmarks can pass their own; the views call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.customs import landed_cost as customs
from marketplace.i18n import use_locale
from marketplace.money import Money, RateTable
from marketplace.money import services as money
from marketplace.orders import allowance, lifecycle, queries
from marketplace.orders import placing as ordering
from marketplace.orders.landed_cost import LandedCost, LandedCostEstimator, ShipmentForCustoms
from marketplace.payments import order_payments
from marketplace.payments.gateway import PaymentGateway
from marketplace.payments.services import Listeners


def landed_cost_estimator(
    rates: RateTable, on: dt.date, buyer_id: str | None = None
) -> LandedCostEstimator:
    """The customs engine, estimating each parcel with the order's rates on the order's day.

    With the buyer known, a destination whose allowance is per period (Uzbekistan: a month) is
    told what the buyer's earlier paid orders there used of it, and the parcels of this order
    estimated before (each seller's parcel arrives on its own, and all count).
    """
    this_order: list[Money] = []  # goods + shipping of the parcels estimated so far

    def run(
        session: Session, shipment: ShipmentForCustoms, used: Money | None
    ) -> customs.LandedCostEstimate:
        return customs.estimate_landed_cost(
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
                allowance_used=used,
            ),
            rates,
        )

    def estimate(session: Session, shipment: ShipmentForCustoms) -> LandedCost:
        result = run(session, shipment, None)
        # Only where the engine asks for it (a per-period allowance), count what was used and
        # estimate again: other destinations cost no extra query.
        window = result.allowance_window
        if buyer_id is not None and window is not None:
            used = Money.zero(shipment.currency)
            earlier = allowance.paid_to(session, buyer_id, shipment.to_country, *window)
            for value in [*earlier, *this_order]:
                used = used + rates.convert(value, shipment.currency)
            result = run(session, shipment, used)
        goods = sum((item.total_value for item in shipment.items), Money.zero(shipment.currency))
        this_order.append(goods + shipment.shipping)
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
    request: ordering.OrderRequest,
    *,
    now: dt.datetime,
    reservation: dt.timedelta,
    max_rate_age: dt.timedelta | None,
    limits: ordering.HoardingLimits | None = None,
) -> queries.OrderView:
    """An order priced with today's rates (copied onto it) and each parcel's landed cost."""
    rates = money.current_table(session)
    return ordering.place_order(
        session,
        buyer,
        request,
        rates=rates,
        now=now,
        reservation=reservation,
        max_rate_age=max_rate_age,
        estimate=landed_cost_estimator(rates, now.date(), buyer.id),
        limits=limits,
    )


def cancel_order(
    session: Session,
    user: User,
    order_id: str,
    *,
    now: dt.datetime,
    gateways: Mapping[str, PaymentGateway],
    listeners: Listeners,
) -> queries.OrderView:
    """Cancel an order; a paid one gets back all that remains through the gateway it was paid
    with (the order's ledger and status follow the payment listeners)."""
    refund = order_payments.refund_cancelled_order(gateways, listeners)
    return lifecycle.cancel_order(session, user, order_id, now=now, refund=refund)
