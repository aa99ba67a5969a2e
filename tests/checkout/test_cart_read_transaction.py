"""Deployed (no test transaction around the request), a priced cart is read without BEGIN and
COMMIT, and what the read still writes (a guest cart bound to its reader) is kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.checkout.models import Cart
from marketplace.db import make_engine
from marketplace.money import services as money_services
from marketplace.reference import load_all
from tests.factories import ADDRESS, make_market, store_rates
from tests.helpers import Api
from tests.live import migrated_database


def test_a_priced_cart_is_read_in_autocommit_and_a_guest_cart_still_binds() -> None:
    for url in migrated_database():
        _reads_on(url)


def _reads_on(url: str) -> None:
    app = create_app({"APP_ENV": "test", "DATABASE_URL": url})
    api = Api(app.test_client())
    engine = make_engine(url)
    with Session(engine) as session:
        load_all(session)
        store_rates(session)
        session.commit()  # SQLite: the app's own connections write next
        market = make_market(api, session)
        session.commit()
    app_engine = app.extensions["marketplace"]["session_factory"].kw["bind"]
    modes: list[Any] = []

    def mode(connection: Any, *_args: Any) -> None:
        modes.append(connection.get_execution_options().get("isolation_level"))

    def filled(as_: Any = None) -> str:
        cart = api.post(
            "/carts", json={"currency": "KZT", "incoterm": "DDP", "ship_to": ADDRESS}, as_=as_
        ).get_json()
        for listing in (market.tea, market.carpet):
            response = api.post(
                f"/carts/{cart['id']}/lines",
                json={"listing_id": listing, "quantity": 1},
                as_=as_,
            )
            assert response.status_code == 201, response.get_json()
        cart_id: str = cart["id"]
        return cart_id

    mine, guest = filled(market.buyer), filled()
    event.listen(app_engine, "before_cursor_execute", mode)
    # The buyer's token is read before the view (for the caller's language), by the same session.
    read = api.get(f"/carts/{mine}", as_=market.buyer)
    assert read.status_code == 200 and read.get_json()["problems"] == []
    assert len(read.get_json()["shipments"]) == 2
    assert modes and set(modes) == {"AUTOCOMMIT"}
    modes.clear()

    assert api.get(f"/carts/{guest}", as_=market.buyer).status_code == 200
    assert set(modes) == {"AUTOCOMMIT"}
    with Session(engine) as session:
        bound = session.get(Cart, guest)
        assert bound is not None and bound.user_id == market.buyer.id
    assert api.get(f"/carts/{guest}").status_code == 404  # the guest's id no longer reads it
    modes.clear()

    # Changing a cart still runs in a transaction.
    changed = api.patch(f"/carts/{mine}", json={"email": "a@example.kz"}, as_=market.buyer)
    assert changed.status_code == 200, changed.get_json()
    assert modes and "AUTOCOMMIT" not in modes
    event.remove(app_engine, "before_cursor_execute", mode)
    app_engine.dispose()
    engine.dispose()
    money_services._tables.clear()
    money_services._checked.clear()
