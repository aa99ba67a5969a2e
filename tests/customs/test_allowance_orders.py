"""Uzbekistan's USD 200 a month per recipient, counted across the buyer's paid orders.

The customs engine does not read orders: order placement sums what the buyer's earlier paid
orders to Uzbekistan that calendar month were worth and passes it in. Rates (per EUR): USD 1.10,
UZS 13,200, so 1 USD = 12,000 UZS; shipping is free so the figures stay round.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from marketplace.orders.models import Shipment
from tests.customs.factories import paid_order, sell_one
from tests.factories import PAPERWORK_RATES, store_rates
from tests.helpers import Api

TASHKENT = {"name": "Dilnoza", "line1": "Amir Temur 1", "city": "Tashkent", "country": "UZ"}


@pytest.fixture
def sellers(api: Api, session: Session) -> dict[str, str]:
    store_rates(session, PAPERWORK_RATES)
    return {
        "150": sell_one(api, session, "CN", "USD", 15_000, shipping="0.00"),
        "100": sell_one(api, session, "TR", "USD", 10_000, shipping="0.00"),
    }


def _order(api: Api, session: Session, buyer: Any, listing: str, pay: bool = True) -> Any:
    return paid_order(
        api, session, buyer, listing, TASHKENT, currency="USD", incoterm="DDP", pay=pay
    )


def test_the_second_parcel_of_the_month_pays_on_what_the_first_left_of_the_allowance(
    api: Api, session: Session, sellers: dict[str, str]
) -> None:
    buyer = api.user("Dilnoza")
    first = _order(api, session, buyer, sellers["150"])
    # 150 USD, nothing used yet: within USD 200, no single customs payment.
    assert first["shipments"][0]["duties"] == {"amount": "0.00", "currency": "USD"}
    second = _order(api, session, buyer, sellers["100"])
    # 150 USD used, 50 left: 30% x (100 - 50) = 15.00 USD.
    assert second["shipments"][0]["duties"] == {"amount": "15.00", "currency": "USD"}
    # The shipment keeps the engine's explanation, which says how much was already used:
    # 150 USD = 1,800,000 UZS used, 50 USD = 600,000 UZS left.
    stored = session.get(Shipment, second["shipments"][0]["id"])
    assert stored is not None
    notes = {note["code"]: note["text"] for note in stored.landed_cost["explanations"]}
    assert (
        "1800000.00 UZS" in notes["allowance_used"] and "600000.00 UZS" in notes["allowance_used"]
    )


def test_unpaid_orders_and_other_buyers_do_not_use_the_allowance(
    api: Api, session: Session, sellers: dict[str, str]
) -> None:
    buyer, other = api.user("Dilnoza"), api.user("Aziz")
    _order(api, session, buyer, sellers["150"], pay=False)
    _order(api, session, other, sellers["150"])
    second = _order(api, session, buyer, sellers["100"])
    assert second["shipments"][0]["duties"] == {"amount": "0.00", "currency": "USD"}
