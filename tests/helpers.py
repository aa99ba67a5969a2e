"""Test helpers that drive the HTTP API the way a storefront or a seller's tool would."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Connection, event
from werkzeug.test import TestResponse

PREFIX = "/api/v1"
_counter = itertools.count(1)


@dataclass
class Caller:
    """A registered user with a token."""

    id: str
    email: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)


class Api:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def request(
        self,
        method: str,
        path: str,
        *,
        as_: Caller | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> TestResponse:
        all_headers = dict(headers or {})
        if as_ is not None:
            all_headers.setdefault("Authorization", f"Bearer {as_.token}")
        url = path if path.startswith("/healthz") or path.startswith(PREFIX) else PREFIX + path
        return self.client.open(url, method=method, headers=all_headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", path, **kwargs)

    def user(self, name: str = "Test User", **extra: Any) -> Caller:
        """Register a new user and log in."""
        email = extra.pop("email", None) or f"user{next(_counter)}@example.test"
        password = "correct horse battery"
        body = {"email": email, "password": password, "name": name, **extra}
        created = self.post("/auth/register", json=body)
        assert created.status_code == 201, created.get_json()
        token = self.post("/auth/tokens", json={"email": email, "password": password})
        assert token.status_code == 201, token.get_json()
        return Caller(id=created.get_json()["id"], email=email, token=token.get_json()["token"])

    def seller(self, owner: Caller, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "Hangzhou Tea",
            "country": "CN",
            "address": {"line1": "1 Tea Road", "city": "Hangzhou", "country": "CN"},
            "currency": "CNY",
            "locale": "zh-Hans",
            **overrides,
        }
        response = self.post("/sellers", json=body, as_=owner)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def brokerage(self, owner: Caller, **overrides: Any) -> dict[str, Any]:
        body = {
            "name": "Khorgos Brokers",
            "countries": ["KZ"],
            "address": {"line1": "1 Dostyk", "city": "Khorgos", "country": "KZ"},
            **overrides,
        }
        response = self.post("/brokerages", json=body, as_=owner)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def join(
        self, owner: Caller, member: Caller, organisation_path: str, role: str = "member"
    ) -> dict[str, Any]:
        """The owner invites the member (`/sellers/{id}` or `/brokerages/{id}`), who accepts."""
        invited = self.post(
            f"{organisation_path}/members", json={"email": member.email, "role": role}, as_=owner
        )
        assert invited.status_code == 201, invited.get_json()
        accepted = self.post(f"/invitations/{invited.get_json()['id']}/accept", as_=member)
        assert accepted.status_code == 201, accepted.get_json()
        return accepted.get_json()


def assert_problem(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a problem+json of that status (and code); returns its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


@contextmanager
def count_statements(connection: Connection) -> Iterator[list[str]]:
    """The SQL statements sent over `connection` inside the with-block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)
