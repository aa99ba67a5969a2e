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


def test_a_stranger_guessing_a_password_cannot_lock_its_owner_out(
    app_settings: dict, session_factory
) -> None:
    app = create_app(
        {**app_settings, "TOKEN_RATE_LIMIT": "3 per minute"}, session_factory=session_factory
    )
    api = Api(app.test_client())
    owner = api.user(email="target@example.test")
    guess = {"email": "Target@example.test", "password": "a-guess-it-is"}
    stranger = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(3):
        assert api.post("/auth/tokens", json=guess, environ_base=stranger).status_code == 401
    # The fourth guess, the email spelled in another case, is refused...
    limited = api.post(
        "/auth/tokens",
        json={**guess, "email": "TARGET@example.test"},
        environ_base=stranger,
    )
    assert_problem(limited, 429, "rate_limited")
    # ...and so is the right password from that address: guessing has stopped there.
    right = {"email": owner.email, "password": "correct horse battery"}
    assert_problem(api.post("/auth/tokens", json=right, environ_base=stranger), 429)
    # The owner, elsewhere, still gets in: failures count per address and email together.
    home = {"REMOTE_ADDR": "203.0.113.20"}
    assert api.post("/auth/tokens", json=right, environ_base=home).status_code == 201


def test_successful_logins_do_not_use_up_the_per_email_limit(
    app_settings: dict, session_factory
) -> None:
    app = create_app(
        {**app_settings, "TOKEN_RATE_LIMIT": "3 per minute"}, session_factory=session_factory
    )
    api = Api(app.test_client())
    owner = api.user(email="often@example.test")
    right = {"email": owner.email, "password": "correct horse battery"}
    wrong = {"email": owner.email, "password": "a typo in it"}
    # Each from its own address (the per-address limit counts every attempt).
    for n in range(5):
        address = {"REMOTE_ADDR": f"198.51.100.{n}"}
        assert api.post("/auth/tokens", json=right, environ_base=address).status_code == 201
        assert api.post("/auth/tokens", json=wrong, environ_base=address).status_code == 401
