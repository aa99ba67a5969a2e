"""Placing a 2-line order from 2 sellers costs a fixed, small number of SQL statements."""

from __future__ import annotations

from sqlalchemy import Connection

from tests.factories import Market
from tests.helpers import count_statements

# 23 before the checkout work, 13 after it; the hoarding limits add 3 (the buyer's row locked,
# their unpaid orders counted, the units they hold summed) and the outbox 1 (the order.placed
# event, written in the same transaction). 12 is the aim.
BUDGET = 17


def test_a_two_seller_order_takes_at_most_its_budget_of_statements(
    market: Market, connection: Connection
) -> None:
    market.placed((market.tea, 1), (market.carpet, 1))  # the process now holds the rate table
    with count_statements(connection) as statements:
        market.placed((market.tea, 1), (market.carpet, 1))
    # The test's own transaction wraps each request in a savepoint; the application issues none.
    issued = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(issued) <= BUDGET, "\n".join(issued)
    # Who the buyer is, which rate set is current, then one read each for listings (with their
    # destinations) and sellers (with their shipping rates), the customs engine's two reads per
    # parcel, one UPDATE for all the stock, four INSERTs for the order and one for its event.
    assert sum(s.startswith("UPDATE listing_variants") for s in issued) == 1
    assert sum(s.startswith("INSERT") for s in issued) == 5
