"""Emails read back from a real SMTP server on loopback: in the buyer's language, right totals."""

from __future__ import annotations

from email.header import decode_header, make_header
from typing import Any

import pytest
from sqlalchemy import update

from marketplace.accounts.models import User
from marketplace.money import Money
from marketplace.money.formatting import format_money
from tests.events.smtp_server import Mailbox, text_of
from tests.factories import Market, make_operator


@pytest.fixture
def app_settings(app_settings: dict[str, Any], mailbox: tuple[str, Mailbox]) -> dict[str, Any]:
    return {**app_settings, "SMTP_URL": mailbox[0]}


def _money(api_money: dict[str, str], locale: str) -> str:
    return format_money(Money.of(api_money["amount"], api_money["currency"]), locale)


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


@pytest.mark.parametrize(
    ("locale", "thanks", "to_pay", "paid"),
    [
        ("ru", "Спасибо за ваш заказ", "К оплате сейчас: ", "Оплата заказа"),
        ("zh-Hans", "感谢您的订单", "现在应付：", "已收到订单"),
    ],
)
def test_the_buyer_reads_the_order_and_its_payment_in_their_language_with_its_totals(
    market: Market, mailbox: tuple[str, Mailbox], locale: str, thanks: str, to_pay: str, paid: str
) -> None:
    _url, box = mailbox
    market.session.execute(update(User).where(User.id == market.buyer.id).values(locale=locale))
    market.session.flush()
    order = market.placed((market.tea, 2), (market.carpet, 1), incoterm="DAP")

    (placed,) = box.to(market.buyer.email)
    text = text_of(placed)
    assert order["number"] in _subject(placed)
    assert thanks in text
    totals = order["totals"]
    for name in ("goods", "shipping", "duties", "taxes"):
        assert _money(totals[name], locale) in text, (name, text)
    assert to_pay + _money(totals["grand_total"], locale) in text
    assert _money(totals["due_on_delivery"], locale) in text  # DAP: paid at the door
    assert order["number"] in text  # the bank transfer's reference

    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    started = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "manual"}, as_=market.buyer
    )
    market.api.post(f"/payments/{started.get_json()['id']}/capture", as_=operator)
    _placed, _transfer_details, confirmation = box.to(market.buyer.email)
    assert paid in _subject(confirmation)
    assert _money(totals["grand_total"], locale) in text_of(confirmation)

    # Each seller's members hear of the parcel to ship, in their own language.
    (to_ship,) = box.to(market.carpet_owner.email)
    assert "Hereke silk carpet" in text_of(to_ship)


def test_the_buyer_hears_of_the_dispatch_with_its_tracking_number(
    market: Market, mailbox: tuple[str, Mailbox]
) -> None:
    _url, box = mailbox
    order = market.placed((market.tea, 1))
    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    started = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "manual"}, as_=market.buyer
    )
    market.api.post(f"/payments/{started.get_json()['id']}/capture", as_=operator)
    shipment = order["shipments"][0]["id"]
    dispatched = market.api.post(
        f"/shipments/{shipment}/dispatch",
        json={"carrier": "Kazpost", "tracking_number": "RR123456785KZ"},
        as_=market.tea_owner,
    )
    assert dispatched.status_code == 200, dispatched.get_json()
    last = box.to(market.buyer.email)[-1]
    assert "RR123456785KZ" in text_of(last) and "Kazpost" in text_of(last)


def test_a_sellers_members_hear_when_an_order_leaves_a_listing_low(
    market: Market, mailbox: tuple[str, Mailbox]
) -> None:
    _url, box = mailbox
    market.session.execute(update(User).where(User.id == market.tea_owner.id).values(locale="kk"))
    market.session.flush()
    market.placed((market.tea, 5))  # 10 in stock, 5 left: not low yet
    assert box.to(market.tea_owner.email) == []
    market.placed((market.tea, 3))  # 2 left
    (low,) = box.to(market.tea_owner.email)
    assert "Қор азайды" in _subject(low)
    assert "2" in text_of(low) and "Longjing green tea" in text_of(low)
