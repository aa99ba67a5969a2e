"""What placing and changing orders refuses, each with its machine-readable code."""

from __future__ import annotations

from marketplace.errors import Conflict, Invalid
from marketplace.i18n import _


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


class TooManyUnpaidOrders(Conflict):
    code = "too_many_unpaid_orders"
    default_detail = _("You have too many unpaid orders: pay or cancel one first.")


class ReservationLimit(Conflict):
    code = "reservation_limit"
    default_detail = _(
        "Your unpaid orders would hold more units of a listing than one buyer may: "
        "pay or cancel them first."
    )
