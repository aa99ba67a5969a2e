"""A guest's order-access token reads that one order and what hangs off it, nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace.accounts.models import ApiToken
from tests.factories import ADDRESS, Market
from tests.helpers import assert_problem


def _guest_order(market: Market) -> tuple[dict[str, Any], dict[str, str]]:
    cart = market.api.post(
        "/carts",
        json={"currency": "KZT", "incoterm": "DDP", "ship_to": ADDRESS, "email": "g@example.kz"},
    ).get_json()
    for listing in (market.tea, market.carpet):
        response = market.api.post(
            f"/carts/{cart['id']}/lines", json={"listing_id": listing, "quantity": 1}
        )
        assert response.status_code == 201, response.get_json()
    completed = market.api.post(f"/carts/{cart['id']}/complete")
    assert completed.status_code == 201, completed.get_json()
    order: dict[str, Any] = completed.get_json()
    return order, {"Authorization": f"Bearer {order['access_token']}"}


def test_the_token_reads_its_order_its_payments_and_its_shipments(market: Market) -> None:
    order, auth = _guest_order(market)
    read = market.api.get(f"/orders/{order['id']}", headers=auth)
    assert read.status_code == 200 and read.get_json()["totals"] == order["totals"]
    payments = market.api.get(f"/orders/{order['id']}/payments", headers=auth)
    assert payments.status_code == 200 and payments.get_json() == []
    shipments = market.api.get("/shipments", headers=auth)
    assert shipments.status_code == 200
    ids = {s["id"] for s in shipments.get_json()["items"]}
    assert ids == {s["id"] for s in order["shipments"]}
    for shipment_id in ids:
        assert market.api.get(f"/shipments/{shipment_id}", headers=auth).status_code == 200
        # Its documents answer as they would the buyer: issued once it is paid.
        documents = market.api.get(f"/shipments/{shipment_id}/documents", headers=auth)
        assert_problem(documents, 409, "shipment_not_paid")


def test_the_token_reaches_nothing_else_and_writes_nothing(
    market: Market, session: Session
) -> None:
    order, auth = _guest_order(market)
    other = market.placed((market.tea, 1))
    # Another order is a 404, as for anyone who may not see it.
    assert_problem(market.api.get(f"/orders/{other['id']}", headers=auth), 404)
    assert_problem(market.api.get(f"/orders/{other['id']}/payments", headers=auth), 404)
    # The account behind it, other lists and every write: 403 `token_scope`.
    for response in (
        market.api.get("/me", headers=auth),
        market.api.patch("/me", json={"name": "Someone"}, headers=auth),
        market.api.get("/orders", headers=auth),
        market.api.get("/me/addresses", headers=auth),
        market.api.post(f"/orders/{order['id']}/cancel", headers=auth),
        market.api.post(
            "/orders",
            json={
                "currency": "KZT",
                "lines": [{"listing_id": market.tea, "quantity": 1}],
                "ship_to": ADDRESS,
            },
            headers=auth,
        ),
        market.api.post("/carts", json={}, headers=auth),
    ):
        assert_problem(response, 403, "token_scope")
    assert market.api.get(f"/orders/{order['id']}", headers=auth).get_json()["status"] == (
        "pending_payment"
    )


def test_the_token_pays_its_order_by_bank_transfer_and_no_other(market: Market) -> None:
    order, auth = _guest_order(market)
    other = market.placed((market.tea, 1))
    assert_problem(
        market.api.post(
            f"/orders/{other['id']}/payments", json={"gateway": "manual"}, headers=auth
        ),
        404,
    )
    paying = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "manual"}, headers=auth
    )
    assert paying.status_code == 201, paying.get_json()
    assert paying.get_json()["instructions"]["reference"] == order["number"]


def test_the_token_is_revocable_and_expires(market: Market, session: Session) -> None:
    order, auth = _guest_order(market)
    assert market.api.delete("/auth/tokens/current", headers=auth).status_code == 204
    assert_problem(market.api.get(f"/orders/{order['id']}", headers=auth), 401, "invalid_token")

    order, auth = _guest_order(market)
    session.execute(
        update(ApiToken)
        .where(ApiToken.order_id == order["id"])
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    session.flush()
    assert_problem(market.api.get(f"/orders/{order['id']}", headers=auth), 401, "invalid_token")
