"""Placing a 2-line order from 2 sellers, or completing a cart of them, costs a fixed, small number
of SQL statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from tests.factories import ADDRESS, Market
from tests.helpers import count_statements

# 23 before the checkout work, 17 with the hoarding limits and the outbox; 11 now: the listings
# come with their sellers and shipping rows, the customs rule is read once per order (not per
# parcel) in the statement that finds the current rate set, HS subheadings once per process,
# and both hoarding limits are one statement.
BUDGET = 11
# A cart adds one: the cart row (locked) with its lines comes with the rate set and the customs
# rule, in place of their own statement, and marking it completed is one more.
CART_BUDGET = BUDGET + 1
# Reading a priced cart: who the caller is, the cart with its lines, the current rate set and
# the destination's customs rule, then the listings with their sellers and shipping rows.
READ_BUDGET = 3


def _issued(statements: list[str]) -> list[str]:
    # The test's own transaction wraps each request in a savepoint; the application issues none.
    return [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def _assert_reference_read_once(issued: list[str]) -> None:
    """The current rate set and the destination's customs rule come in one statement."""
    assert sum("FROM customs_rules" in s for s in issued) == 1
    assert sum("FROM rate_sets" in s for s in issued) == 1
    assert any("FROM customs_rules" in s and "FROM rate_sets" in s for s in issued)


def _assert_order_statements(issued: list[str], budget: int) -> None:
    assert len(issued) <= budget, "\n".join(issued)
    # Who the buyer is, which rate set is current beside the destination's customs rule, the
    # listings with their destinations, sellers and shipping rows, the buyer's row locked and
    # their unpaid orders read, one UPDATE for all the stock, four INSERTs for the order, one for
    # its event.
    _assert_reference_read_once(issued)
    assert not any("FROM hs_codes" in s for s in issued)
    assert sum(s.startswith("UPDATE listing_variants") for s in issued) == 1
    assert sum(s.startswith("INSERT") for s in issued) == 5


def test_a_two_seller_order_takes_at_most_its_budget_of_statements(
    market: Market, connection: Connection
) -> None:
    market.placed((market.tea, 1), (market.carpet, 1))  # the process now holds the rate table
    with count_statements(connection) as statements:
        market.placed((market.tea, 1), (market.carpet, 1))
    _assert_order_statements(_issued(statements), BUDGET)


def _filled_cart(market: Market) -> str:
    cart = market.api.post(
        "/carts",
        json={"currency": "KZT", "incoterm": "DDP", "ship_to": ADDRESS},
        as_=market.buyer,
    ).get_json()
    for listing in (market.tea, market.carpet):
        response = market.api.post(
            f"/carts/{cart['id']}/lines",
            json={"listing_id": listing, "quantity": 1},
            as_=market.buyer,
        )
        assert response.status_code == 201, response.get_json()
    cart_id: str = cart["id"]
    return cart_id


def test_completing_a_two_seller_cart_takes_at_most_its_budget_of_statements(
    market: Market, connection: Connection
) -> None:
    market.placed((market.tea, 1), (market.carpet, 1))
    cart_id = _filled_cart(market)
    with count_statements(connection) as statements:
        response: Any = market.api.post(f"/carts/{cart_id}/complete", as_=market.buyer)
    assert response.status_code == 201, response.get_json()
    issued = _issued(statements)
    _assert_order_statements(issued, CART_BUDGET)
    assert sum(s.startswith("UPDATE carts") for s in issued) == 1


def test_reading_a_priced_two_seller_cart_takes_at_most_its_budget_of_statements(
    market: Market, connection: Connection
) -> None:
    market.placed((market.tea, 1), (market.carpet, 1))
    cart_id = _filled_cart(market)
    with count_statements(connection) as statements:
        response: Any = market.api.get(f"/carts/{cart_id}", as_=market.buyer)
    assert response.status_code == 200 and response.get_json()["problems"] == []
    issued = _issued(statements)
    assert len(issued) <= READ_BUDGET, "\n".join(issued)
    _assert_reference_read_once(issued)
    assert not any(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in issued)
