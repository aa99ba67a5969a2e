"""JSON logs that carry the request id; token creation limited per email across addresses."""

from __future__ import annotations

import io
import json
import logging

from flask import Flask

from marketplace import JsonLogFormatter, create_app
from tests.helpers import Api, assert_problem


def test_an_error_is_logged_as_one_json_line_with_the_request_id(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    handler = next(
        h
        for h in logging.getLogger("marketplace").handlers
        if isinstance(h, logging.StreamHandler) and isinstance(h.formatter, JsonLogFormatter)
    )
    captured = io.StringIO()
    previous = handler.setStream(captured)
    try:
        app.test_client().get("/boom", headers={"X-Request-ID": "trace-42"})
    finally:
        handler.setStream(previous)
    lines = captured.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["request_id"] == "trace-42" and entry["level"] == "ERROR"
    assert "kaboom" in entry["exc"]


def test_a_log_line_outside_a_request_is_json_too() -> None:
    record = logging.LogRecord(
        "marketplace.cli", logging.INFO, __file__, 1, "rates: %s", ("31 imported",), None
    )
    assert json.loads(JsonLogFormatter().format(record))["message"] == "rates: 31 imported"


def test_guessing_one_accounts_password_from_many_addresses_is_still_limited(
    app_settings: dict, session_factory
) -> None:
    app = create_app(
        {**app_settings, "TOKEN_RATE_LIMIT": "3 per minute"}, session_factory=session_factory
    )
    api = Api(app.test_client())
    body = {"email": "Target@example.test", "password": "a-guess-it-is"}
    for n in range(3):
        response = api.post(
            "/auth/tokens", json=body, environ_base={"REMOTE_ADDR": f"198.51.100.{n}"}
        )
        assert response.status_code == 401
    # A fourth address, and the email spelled in another case: the per-email limit still applies.
    limited = api.post(
        "/auth/tokens",
        json={**body, "email": "target@EXAMPLE.test"},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert_problem(limited, 429, "rate_limited")
    # Another account from that fresh address is not held back by the first one's limit.
    other = api.post(
        "/auth/tokens",
        json={**body, "email": "someone-else@example.test"},
        environ_base={"REMOTE_ADDR": "198.51.100.10"},
    )
    assert other.status_code == 401
