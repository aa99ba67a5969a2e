"""What each event tells whom by email, written in the recipient's locale through gettext.

Buyers hear that their order was placed (its totals and how to pay), paid, dispatched (carrier
and tracking number) and refunded; the members of a seller hear of a new order to ship and of a
listing running low. The text is fixed when the event is handed on, so a retried email is the
same email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Membership, User
from marketplace.catalogue.models import Listing
from marketplace.events.dispatch import Email
from marketplace.i18n import gettext, parse_tag, use_locale
from marketplace.money import Money
from marketplace.money.formatting import format_money
from marketplace.orders import queries as orders
from marketplace.orders.models import Order, Shipment
from marketplace.outbox import EventType, OutboxEvent
from marketplace.payments.models import PaymentRefund


def emails_for(session: Session, event: OutboxEvent, now: dt.datetime) -> list[Email]:
    """Every email the event calls for (none for events that concern nobody's inbox)."""
    compose = _COMPOSERS.get(EventType(event.type))
    return [] if compose is None else compose(session, event, now)


def _email(user: User, subject: str, lines: list[str]) -> Email:
    """Call under `use_locale(user.locale)`, in which subject and lines were written."""
    return Email(user.email, user.locale, subject, "\n".join(lines) + "\n")


def _when(moment: dt.datetime, locale: str) -> str:
    where = parse_tag(locale) or parse_tag("en")
    assert where is not None
    return format_datetime(moment, "medium", tzinfo=dt.UTC, locale=where) + " UTC"


def _buyer(session: Session, order: Order) -> User:
    buyer = session.get(User, order.buyer_id)
    assert buyer is not None  # orders restrict deleting their buyer
    return buyer


def _members(session: Session, seller_id: str) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == seller_id)
            .order_by(User.email_key)
        )
    )


def _placed(session: Session, event: OutboxEvent, now: dt.datetime) -> list[Email]:
    view = orders.order_view(session, event.data["order_id"], seller_id=None, now=now)
    if view is None:
        return []
    order, totals = view.order, view.totals
    buyer = _buyer(session, order)
    locale = buyer.locale
    with use_locale(locale):
        lines = [
            gettext("Thank you for your order %(number)s.", number=order.number),
            "",
            gettext("Goods: %(amount)s", amount=format_money(totals.goods, locale)),
            gettext("Shipping: %(amount)s", amount=format_money(totals.shipping, locale)),
            gettext("Duties: %(amount)s", amount=format_money(totals.duties, locale)),
            gettext("Taxes: %(amount)s", amount=format_money(totals.taxes, locale)),
            gettext("To pay now: %(amount)s", amount=format_money(totals.grand_total, locale)),
        ]
        if not totals.due_on_delivery.is_zero():
            lines.append(
                gettext(
                    "To pay on delivery: %(amount)s",
                    amount=format_money(totals.due_on_delivery, locale),
                )
            )
        lines += [
            "",
            gettext(
                "Please pay %(amount)s by %(deadline)s, by card or by bank transfer, from "
                "your order page. Your goods are reserved until then.",
                amount=format_money(totals.grand_total, locale),
                deadline=_when(order.expires_at, locale),
            ),
            gettext("For a bank transfer, quote %(number)s as the reference.", number=order.number),
        ]
        return [_email(buyer, gettext("Your order %(number)s", number=order.number), lines)]


def _paid(session: Session, event: OutboxEvent, now: dt.datetime) -> list[Email]:
    view = orders.order_view(session, event.data["order_id"], seller_id=None, now=now)
    if view is None:
        return []
    order = view.order
    buyer = _buyer(session, order)
    with use_locale(buyer.locale):
        emails = [
            _email(
                buyer,
                gettext("Payment received for order %(number)s", number=order.number),
                [
                    gettext(
                        "We received your payment of %(amount)s for order %(number)s. The "
                        "sellers are preparing your parcels.",
                        amount=format_money(view.totals.grand_total, buyer.locale),
                        number=order.number,
                    )
                ],
            )
        ]
    for shipment in view.shipments:
        items = [
            f"  {line.quantity} × {line.title} ({line.sku})"
            for line in view.lines
            if line.shipment_id == shipment.id
        ]
        goods = Money.from_minor(shipment.goods_seller_minor, shipment.seller_currency)
        for member in _members(session, shipment.seller_id):
            with use_locale(member.locale):
                emails.append(
                    _email(
                        member,
                        gettext("New order to ship: %(number)s", number=shipment.number),
                        [
                            gettext(
                                "Order %(order)s is paid. Please ship parcel %(number)s to "
                                "%(country)s:",
                                order=order.number,
                                number=shipment.number,
                                country=shipment.to_country,
                            ),
                            *items,
                            gettext("Goods: %(amount)s", amount=format_money(goods, member.locale)),
                        ],
                    )
                )
    return emails


def _dispatched(session: Session, event: OutboxEvent, now: dt.datetime) -> list[Email]:
    shipment = session.get(Shipment, event.data["shipment_id"])
    order = session.get(Order, event.data["order_id"])
    if shipment is None or order is None:
        return []
    buyer = _buyer(session, order)
    with use_locale(buyer.locale):
        return [
            _email(
                buyer,
                gettext("Your parcel %(number)s is on its way", number=shipment.number),
                [
                    gettext(
                        "Parcel %(number)s of order %(order)s was handed to %(carrier)s.",
                        number=shipment.number,
                        order=order.number,
                        carrier=shipment.carrier or "",
                    ),
                    gettext(
                        "Tracking number: %(tracking)s", tracking=shipment.tracking_number or ""
                    ),
                ],
            )
        ]


def _refunded(session: Session, event: OutboxEvent, now: dt.datetime) -> list[Email]:
    refund = session.get(PaymentRefund, event.data["refund_id"])
    order = session.get(Order, event.data["order_id"])
    if refund is None or order is None:
        return []
    buyer = _buyer(session, order)
    refunded = Money.from_minor(refund.amount_minor, refund.currency)
    with use_locale(buyer.locale):
        return [
            _email(
                buyer,
                gettext("Refund for order %(number)s", number=order.number),
                [
                    gettext(
                        "We refunded %(amount)s for order %(number)s to the way you paid.",
                        amount=format_money(refunded, buyer.locale),
                        number=order.number,
                    )
                ],
            )
        ]


def _low_stock(session: Session, event: OutboxEvent, now: dt.datetime) -> list[Email]:
    listing = session.get(Listing, event.data["listing_id"])
    if listing is None:
        return []
    emails = []
    sku = event.data.get("sku") or listing.sku  # the variant's, since variants
    for member in _members(session, listing.seller_id):
        with use_locale(member.locale):
            emails.append(
                _email(
                    member,
                    gettext("Low stock: %(sku)s", sku=sku),
                    [
                        gettext(
                            "Only %(stock)s left of %(sku)s (%(title)s). Add stock so that it "
                            "stays on sale.",
                            stock=event.data["stock"],
                            sku=sku,
                            title=listing.title,
                        )
                    ],
                )
            )
    return emails


_COMPOSERS: dict[EventType, Callable[[Session, OutboxEvent, dt.datetime], list[Email]]] = {
    EventType.ORDER_PLACED: _placed,
    EventType.ORDER_PAID: _paid,
    EventType.SHIPMENT_DISPATCHED: _dispatched,
    EventType.REFUND_CREATED: _refunded,
    EventType.LISTING_LOW_STOCK: _low_stock,
}
