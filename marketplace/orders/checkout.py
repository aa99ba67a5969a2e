"""Where orders meet the other domains: current rates (money), landed cost (customs) and refunds
(payments). The views call these; `services` itself takes all three as parameters, so tests and
benchmarks can pass their own.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.errors import Invalid
from marketplace.i18n import _
from marketplace.orders import services
from marketplace.orders.landed_cost import LandedCostEstimator, no_duties


class RatesUnavailable(Invalid):
    code = "rate_missing"
    default_detail = _("No exchange rates are loaded; orders cannot be priced yet.")


def current_rates(session: Session, *, now: dt.datetime, max_age: dt.timedelta) -> services.RateSnapshot:
    """The current rate set, refused when older than `max_age` (409 `rate_stale`)."""
    raise RatesUnavailable()


def landed_cost_estimator() -> LandedCostEstimator:
    return no_duties


def refund_issuer() -> services.RefundIssuer | None:
    """How a paid order being cancelled gets its money back; None until payments provides it."""
    return None


def place_order(
    session: Session,
    buyer: User,
    request: services.OrderRequest,
    *,
    now: dt.datetime,
    reservation: dt.timedelta,
    max_rate_age: dt.timedelta,
) -> services.OrderView:
    return services.place_order(
        session,
        buyer,
        request,
        rates=current_rates(session, now=now, max_age=max_rate_age),
        now=now,
        reservation=reservation,
        estimate=landed_cost_estimator(),
    )


def cancel_order(session: Session, user: User, order_id: str, *, now: dt.datetime) -> services.OrderView:
    return services.cancel_order(session, user, order_id, now=now, refund=refund_issuer())
