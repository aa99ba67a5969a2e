"""Abuse through the HTTP API: shared limits, forwarded addresses, caching of personal answers."""

from __future__ import annotations

from typing import Any

from marketplace import create_app
from tests.helpers import Api, assert_problem

PROXY = "10.0.0.5"


def _api(app_settings: dict[str, Any], session_factory: Any, **settings: Any) -> Api:
    return Api(
        create_app({**app_settings, **settings}, session_factory=session_factory).test_client()
    )


def _register(api: Api, n: int, **kwargs: Any) -> Any:
    body = {"email": f"many{n}@example.test", "password": "correct horse battery", "name": "M"}
    return api.post("/auth/register", json=body, **kwargs)


def test_registration_is_rate_limited_per_client_address(
    app_settings: dict[str, Any], session_factory: Any
) -> None:
    api = _api(app_settings, session_factory, REGISTER_RATE_LIMIT="2 per hour")
    here = {"REMOTE_ADDR": "198.51.100.1"}
    assert _register(api, 1, environ_base=here).status_code == 201
    assert _register(api, 2, environ_base=here).status_code == 201
    limited = assert_problem(_register(api, 3, environ_base=here), 429, "rate_limited")
    assert limited["title"]
    assert _register(api, 4, environ_base={"REMOTE_ADDR": "198.51.100.2"}).status_code == 201


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    app_settings: dict[str, Any], session_factory: Any
) -> None:
    api = _api(
        app_settings, session_factory, REGISTER_RATE_LIMIT="1 per hour", TRUSTED_PROXIES=PROXY
    )
    # Through the proxy, two clients are two addresses.
    via_proxy = {"REMOTE_ADDR": PROXY}
    first = _register(api, 1, environ_base=via_proxy, headers={"X-Forwarded-For": "203.0.113.1"})
    second = _register(api, 2, environ_base=via_proxy, headers={"X-Forwarded-For": "203.0.113.2"})
    assert first.status_code == second.status_code == 201
    # A client that is not the proxy cannot pick a new address for each request.
    direct = {"REMOTE_ADDR": "198.51.100.50"}
    assert (
        _register(api, 3, environ_base=direct, headers={"X-Forwarded-For": "1.1.1.1"}).status_code
        == 201
    )
    assert_problem(
        _register(api, 4, environ_base=direct, headers={"X-Forwarded-For": "2.2.2.2"}), 429
    )


def test_hsts_is_sent_behind_a_trusted_tls_proxy_only(
    app_settings: dict[str, Any], session_factory: Any
) -> None:
    api = _api(app_settings, session_factory, TRUSTED_PROXIES="10.0.0.0/24")
    tls = {"X-Forwarded-Proto": "https"}
    behind = api.get("/currencies", headers=tls, environ_base={"REMOTE_ADDR": PROXY})
    assert behind.headers["Strict-Transport-Security"].startswith("max-age=")
    spoofed = api.get("/currencies", headers=tls, environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert "Strict-Transport-Security" not in spoofed.headers


def test_personal_answers_are_not_stored_by_caches(api: Api) -> None:
    user = api.user()
    assert api.get("/me", as_=user).headers["Cache-Control"] == "no-store"
    token = api.post(
        "/auth/tokens", json={"email": user.email, "password": "correct horse battery"}
    )
    assert token.headers["Cache-Control"] == "no-store"
    # Public catalogue pages stay cacheable.
    assert "public" in api.get("/catalogue").headers["Cache-Control"]
