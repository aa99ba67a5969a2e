"""Placing and cancelling orders: where orders meet current rates (money), landed cost (customs)
and refunds (payments). The orders package takes all three as parameters, so tests and
benchmarks can pass their own; the views call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.checkout import pricing
from marketplace.customs import addresses
from marketplace.orders import lifecycle, queries
from marketplace.orders import placing as ordering
from marketplace.payments import order_payments
from marketplace.payments import services as payments
from marketplace.payments.gateway import PaymentGateway
from marketplace.payments.services import Listeners


def place_order(
    session: Session,
    buyer: User,
    request: ordering.OrderRequest,
    *,
    now: dt.datetime,
    reservation: dt.timedelta,
    max_rate_age: dt.timedelta | None,
    locales: tuple[str, ...] = (),
    limits: ordering.HoardingLimits | None = None,
) -> queries.OrderView:
    """An order priced with today's rates (copied onto it) and each parcel's landed cost,
    refusing (422 `address_incomplete`) a `ship_to` its parcels cannot travel on; its lines keep
    their titles in the buyer's `locales` (best first) too."""
    addresses.require_complete(request.ship_to)
    rates, rules = pricing.in_force(session, request.ship_to["country"], now.date())
    priced = pricing.price(
        session,
        request,
        rates=rates,
        now=now,
        max_rate_age=max_rate_age,
        locales=locales,
        buyer_id=buyer.id,
        rules=rules,
    )
    addresses.require_complete(
        request.ship_to, cn23=pricing.needs_cn23(rates, pricing.contents(priced))
    )
    return ordering.record_order(
        session, buyer, priced, now=now, reservation=reservation, limits=limits
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
    """Cancel an order and the bank transfers it still awaits; a paid one gets back all that
    remains through the gateway it was paid with (the order's ledger and status follow the
    payment listeners)."""
    refund = order_payments.refund_cancelled_order(gateways, listeners)
    view = lifecycle.cancel_order(session, user, order_id, now=now, refund=refund)
    payments.cancel_pending_transfers(session, [order_id])
    return view
