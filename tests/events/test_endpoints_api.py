"""Webhook endpoints over HTTP: who owns them, the secret shown once and rotated, no SSRF."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from marketplace import create_app
from marketplace.events.transport import HttpSender
from tests.events.receiver import Receiver
from tests.factories import Market, make_operator
from tests.helpers import Api, assert_problem


def _create(market: Market, owner: Any, url: str, **extra: Any) -> Any:
    return market.api.post(
        "/webhook-endpoints", json={"url": url, "events": ["order.placed"], **extra}, as_=owner
    )


def test_the_secret_is_shown_once_and_another_partys_endpoint_does_not_exist(
    market: Market, receiver: Receiver
) -> None:
    created = _create(market, market.tea_owner, receiver.url, description="ERP")
    assert created.status_code == 201
    endpoint = created.get_json()
    shown = market.api.get(f"/webhook-endpoints/{endpoint['id']}", as_=market.tea_owner).get_json()
    assert "secret" not in shown and shown["description"] == "ERP"
    listed = market.api.get("/webhook-endpoints", as_=market.tea_owner).get_json()
    assert [e["id"] for e in listed["items"]] == [endpoint["id"]] and "secret" not in listed[
        "items"
    ][0]

    for stranger in (market.carpet_owner, market.buyer):
        assert market.api.get("/webhook-endpoints", as_=stranger).get_json()["items"] == []
        for method, path in (
            ("GET", f"/webhook-endpoints/{endpoint['id']}"),
            ("DELETE", f"/webhook-endpoints/{endpoint['id']}"),
            ("GET", f"/webhook-endpoints/{endpoint['id']}/deliveries"),
            ("POST", f"/webhook-endpoints/{endpoint['id']}/secret"),
        ):
            assert_problem(market.api.request(method, path, as_=stranger), 404)
    # Another seller's id, and platform-wide endpoints, are not for a seller's members.
    assert_problem(
        _create(market, market.tea_owner, receiver.url, seller_id=market.carpet_seller), 404
    )
    assert_problem(_create(market, market.buyer, receiver.url), 403, "webhook_seller_required")
    assert (
        market.api.delete(f"/webhook-endpoints/{endpoint['id']}", as_=market.tea_owner).status_code
        == 204
    )
    assert_problem(
        market.api.get(f"/webhook-endpoints/{endpoint['id']}", as_=market.tea_owner), 404
    )


def test_bad_urls_and_event_types_are_refused(market: Market) -> None:
    for url in (
        "ftp://example.com/x",
        "javascript:alert(1)",
        "http://user:pw@example.com/",
        "not a url",
    ):
        assert_problem(_create(market, market.tea_owner, url), 422)
    response = market.api.post(
        "/webhook-endpoints",
        json={"url": "https://example.com/hooks", "events": ["order.exploded"]},
        as_=market.tea_owner,
    )
    assert_problem(response, 422)
    assert market.api.get("/webhook-endpoints", as_=market.tea_owner).get_json()["items"] == []


def test_outside_development_loopback_private_and_link_local_targets_are_refused(
    app_settings: dict[str, Any], session: Session, session_factory: Any, receiver: Receiver
) -> None:
    app: Flask = create_app(
        {**app_settings, "WEBHOOK_ALLOW_PRIVATE": False}, session_factory=session_factory
    )
    api = Api(app.test_client())
    operator = api.user("Operator")
    make_operator(session, operator)
    for url in (
        receiver.url,
        "http://localhost:9/",
        "http://10.0.0.8/hook",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ):
        body = assert_problem(
            api.post(
                "/webhook-endpoints", json={"url": url, "events": ["order.paid"]}, as_=operator
            ),
            422,
            "webhook_url_not_allowed",
        )
        assert "url" in body["errors"]
    # Checked again when sending: a name that now resolves to loopback is not called.
    result = HttpSender(allow_private=False).send(receiver.url, "{}", {})
    assert not result.ok and result.status_code is None and receiver.received == []


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    market: Market, receiver: Receiver
) -> None:
    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    old = _create(market, operator, receiver.url).get_json()
    rotated = market.api.post(f"/webhook-endpoints/{old['id']}/secret", as_=operator)
    assert rotated.status_code == 200
    new_secret = rotated.get_json()["secret"]
    assert new_secret != old["secret"]

    market.placed((market.tea, 1))
    (received,) = receiver.wait_for(1)
    assert received.headers["webhook-signature"].count("v1,") == 2
    for secret in (old["secret"], new_secret):  # receivers on either secret accept it
        assert Webhook(secret).verify(received.body, received.headers)["type"] == "order.placed"


def test_the_endpoint_and_delivery_lists_page_in_a_constant_number_of_queries(
    market: Market, receiver: Receiver, connection: Connection
) -> None:
    endpoint = _create(market, market.tea_owner, receiver.url).get_json()
    _create(market, market.tea_owner, receiver.url + "/second")

    def queries(path: str) -> int:
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(args[2])

        event.listen(connection, "before_cursor_execute", record)
        try:
            response = market.api.get(path, query_string={"limit": 1}, as_=market.tea_owner)
            assert response.status_code == 200 and response.get_json()["next_cursor"]
            following = market.api.get(
                path,
                query_string={"limit": 50, "cursor": response.get_json()["next_cursor"]},
                as_=market.tea_owner,
            )
            assert following.status_code == 200 and following.get_json()["items"]
        finally:
            event.remove(connection, "before_cursor_execute", record)
        return len(statements)

    market.placed((market.tea, 1))
    market.placed((market.tea, 1))
    few = (
        queries("/webhook-endpoints"),
        queries(f"/webhook-endpoints/{endpoint['id']}/deliveries"),
    )
    for _ in range(5):
        market.placed((market.tea, 1))
    many = (
        queries("/webhook-endpoints"),
        queries(f"/webhook-endpoints/{endpoint['id']}/deliveries"),
    )
    assert few == many
    log = market.api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", as_=market.tea_owner)
    assert [d["status"] for d in log.get_json()["items"]] == ["delivered"] * 7
    assert_problem(
        market.api.get(
            f"/webhook-endpoints/{endpoint['id']}/deliveries",
            query_string={"cursor": "garbage"},
            as_=market.tea_owner,
        ),
        422,
        "cursor_invalid",
    )
