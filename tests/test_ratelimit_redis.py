"""With REDIS_URL set, rate limits live in Redis, so every worker and machine shares them."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import redis

from marketplace import create_app
from tests.helpers import Api, assert_problem

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    return client


def test_token_limit_is_counted_in_redis(
    redis_client: redis.Redis, app_settings: dict[str, Any], session_factory: Any
) -> None:
    settings = {**app_settings, "REDIS_URL": REDIS_URL, "TOKEN_RATE_LIMIT": "2 per minute"}
    client = create_app(settings, session_factory=session_factory).test_client()
    # Its own client address: other suites on this machine count 127.0.0.1 in the same Redis.
    client.environ_base["REMOTE_ADDR"] = f"10.{uuid.uuid4().int % 250}.{os.getpid() % 250}.7"
    api = Api(client)
    email = f"limited-{uuid.uuid4().hex}@example.test"
    body = {"email": email, "password": "whatever-it-is"}
    assert api.post("/auth/tokens", json=body).status_code == 401
    assert api.post("/auth/tokens", json=body).status_code == 401
    assert_problem(api.post("/auth/tokens", json=body), 429, "rate_limited")
    # The counters are in Redis, where every worker and machine reads the same ones.
    keys = [key.decode() for key in redis_client.scan_iter(match="*marketplace*")]
    assert any(email in key for key in keys), keys
