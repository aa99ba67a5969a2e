"""What each event tells whom by email, written in the recipient's locale through gettext.

Buyers hear that their order was placed (its totals and how to pay), where to wire a bank
transfer they chose (account, reference, amount, due date), that a card payment failed, that
the order was paid, dispatched (carrier and tracking number) and refunded; the members of a seller hear of a new order to ship and of a
listing running low. The text is fixed when the event is handed on, so a retried email is the
same email.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from babel.dates import format_datetime
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Membership, User
from marketplace.catalogue.models import Listing
from marketplace.events.dispatch import Email, EmailComposer
from marketplace.i18n import gettext, parse_tag, use_locale
from marketplace.money import Money
from marketplace.money.formatting import format_money
from marketplace.orders import queries as orders
from marketplace.orders.models import Order, OrderStatus, Shipment
from marketplace.outbox import EventType, OutboxEvent
from marketplace.payments import order_payments
from marketplace.payments.gateway import PaymentGateway
from marketplace.payments.models import Payment, PaymentRefund

Gateways = Mapping[str, PaymentGateway]


def email_composer(gateways: Gateways) -> EmailComposer:
    """What writes the emails of each event; a bank transfer's details come from `gateways`."""

    def emails_for(session: Session, event: OutboxEvent, views: orders.OrderViews) -> list[Email]:
        """Every email the event calls for (none for events that concern nobody's inbox)."""
        compose = _COMPOSERS.get(EventType(event.type))
        return [] if compose is None else compose(session, event, views, gateways)

    return emails_for


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


def _placed(
    session: Session, event: OutboxEvent, views: orders.OrderViews, gateways: Gateways
) -> list[Email]:
    view = views.get(event.data["order_id"])
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


def _paid(
    session: Session, event: OutboxEvent, views: orders.OrderViews, gateways: Gateways
) -> list[Email]:
    view = views.get(event.data["order_id"])
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


def _transfer_details(
    session: Session, event: OutboxEvent, views: orders.OrderViews, gateways: Gateways
) -> list[Email]:
    """A bank transfer was chosen: the buyer gets the account, reference, amount and due date,
    exactly as the API answered them (the same configured account for the currency)."""
    payment = session.get(Payment, event.data["payment_id"])
    if payment is None:
        return []
    instructions = order_payments.transfer_instructions(session, gateways, payment)
    view = views.get(payment.order_id)
    if instructions is None or view is None:  # a card, or already captured or cancelled
        return []
    buyer = _buyer(session, view.order)
    locale = buyer.locale
    account = instructions.account
    with use_locale(locale):
        lines = [
            gettext(
                "Please transfer %(amount)s by %(deadline)s to the account below. Your goods "
                "are reserved until then.",
                amount=format_money(instructions.amount, locale),
                deadline=_when(instructions.due_at, locale),
            ),
            "",
            gettext("Beneficiary: %(name)s", name=account.beneficiary),
            gettext("Bank: %(name)s", name=account.bank_name),
        ]
        if account.iban:
            lines.append(gettext("IBAN: %(iban)s", iban=account.iban))
        if account.account_number:
            lines.append(gettext("Account number: %(number)s", number=account.account_number))
        if account.swift_bic:
            lines.append(gettext("SWIFT/BIC: %(code)s", code=account.swift_bic))
        lines += [
            gettext("Amount: %(amount)s", amount=format_money(instructions.amount, locale)),
            gettext("Reference: %(reference)s", reference=instructions.reference),
            "",
            gettext("Quote the reference exactly, so that your transfer is matched to your order."),
        ]
        subject = gettext("Bank transfer details for order %(number)s", number=view.order.number)
        return [_email(buyer, subject, lines)]


def _payment_failed(
    session: Session, event: OutboxEvent, views: orders.OrderViews, gateways: Gateways
) -> list[Email]:
    """The card was declined: the buyer may try again while the order holds its goods."""
    payment = session.get(Payment, event.data["payment_id"])
    view = views.get(event.data["order_id"])
    if payment is None or view is None:
        return []
    order = view.order
    buyer = _buyer(session, order)
    locale = buyer.locale
    with use_locale(locale):
        lines = [
            gettext(
                "Your payment of %(amount)s for order %(number)s did not go through.",
                amount=format_money(payment.amount, locale),
                number=order.number,
            ),
        ]
        if payment.failure_code:
            lines.append(gettext("Reason given: %(code)s", code=payment.failure_code))
        if order.status == OrderStatus.PENDING_PAYMENT:
            lines.append(
                gettext(
                    "Your goods are reserved until %(deadline)s: you can pay again, by another "
                    "card or by bank transfer, from your order page.",
                    deadline=_when(order.expires_at, locale),
                )
            )
        subject = gettext("Payment for order %(number)s failed", number=order.number)
        return [_email(buyer, subject, lines)]


def _dispatched(
    session: Session, event: OutboxEvent, views: orders.OrderViews, gateways: Gateways
) -> list[Email]:
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


def _refunded(
    session: Session, event: OutboxEvent, views: orders.OrderViews, gateways: Gateways
) -> list[Email]:
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


def _low_stock(
    session: Session, event: OutboxEvent, views: orders.OrderViews, gateways: Gateways
) -> list[Email]:
    listing = session.get(Listing, event.data["listing_id"])
    if listing is None:
        return []
    emails = []
    for member in _members(session, listing.seller_id):
        with use_locale(member.locale):
            emails.append(
                _email(
                    member,
                    gettext("Low stock: %(sku)s", sku=listing.sku),
                    [
                        gettext(
                            "Only %(stock)s left of %(sku)s (%(title)s). Add stock so that it "
                            "stays on sale.",
                            stock=event.data["stock"],
                            sku=listing.sku,
                            title=listing.title,
                        )
                    ],
                )
            )
    return emails


_COMPOSERS: dict[
    EventType, Callable[[Session, OutboxEvent, orders.OrderViews, Gateways], list[Email]]
] = {
    EventType.ORDER_PLACED: _placed,
    EventType.PAYMENT_CREATED: _transfer_details,
    EventType.PAYMENT_FAILED: _payment_failed,
    EventType.ORDER_PAID: _paid,
    EventType.SHIPMENT_DISPATCHED: _dispatched,
    EventType.REFUND_CREATED: _refunded,
    EventType.LISTING_LOW_STOCK: _low_stock,
}
