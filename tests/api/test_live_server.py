"""Against a real gunicorn started with config/gunicorn.conf.py on a loopback port."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live import gunicorn, migrated_database


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    yield from migrated_database()


@pytest.fixture(scope="module")
def port(live_url: str) -> Iterator[int]:
    # The default configuration: no REDIS_URL, so one process whose threads share the limits.
    with gunicorn(live_url, TOKEN_RATE_LIMIT="10 per minute") as port:
        yield port


def _raw(port: int, data: bytes) -> tuple[int, float]:
    """Send raw bytes; the status line's code and the seconds until it came back."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # The server may answer and close before reading everything: what we want.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        answer = sock.recv(200)
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def _post(port: int, path: str, body: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    status = connection.getresponse().status
    connection.close()
    return status


def test_an_8_mb_request_line_is_refused_with_414_at_once(port: int) -> None:
    status, seconds = _raw(port, b"GET /api/v1/catalogue?q=" + b"a" * 8_000_000 + b" HTTP/1.1\r\n")
    assert status == 414 and seconds < 2
    assert _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200


def test_too_many_or_too_long_headers_are_refused(port: int) -> None:
    many = b"".join(b"X-H%d: v\r\n" % n for n in range(200))
    assert _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")[0] == 431
    long = b"X-Long: " + b"v" * 20_000 + b"\r\n"
    assert _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + long + b"\r\n")[0] == 431


def test_forty_wrong_passwords_at_once_get_exactly_the_limit_answered(port: int) -> None:
    path = "/api/v1/auth/register"
    account = {"email": "victim@example.test", "password": "correct horse battery", "name": "V"}
    assert _post(port, path, account) == 201
    wrong = {"email": account["email"], "password": "not the password"}
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: _post(port, "/api/v1/auth/tokens", wrong), range(40)))
    assert statuses.count(401) == 10 and statuses.count(429) == 30, statuses
    right = {"email": account["email"], "password": account["password"]}
    assert _post(port, "/api/v1/auth/tokens", right) == 429
