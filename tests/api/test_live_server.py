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


def _bearer(port: int, email: str) -> str:
    account = {"email": email, "password": "correct horse battery", "name": "Seller"}
    assert _post(port, "/api/v1/auth/register", account) == 201
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"email": email, "password": account["password"]})
    connection.request("POST", "/api/v1/auth/tokens", body, {"Content-Type": "application/json"})
    token: str = json.loads(connection.getresponse().read())["token"]
    seller = {
        "name": "Big Files Ltd",
        "country": "CN",
        "address": {"line1": "1 Road", "city": "Hangzhou", "country": "CN"},
        "currency": "CNY",
        "locale": "zh-Hans",
    }
    connection.request(
        "POST",
        "/api/v1/sellers",
        json.dumps(seller),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    assert connection.getresponse().read() and True
    return token


@pytest.fixture
def fresh_port(live_url: str) -> Iterator[int]:
    """A server of its own: the tests above used up 127.0.0.1's login limit."""
    with gunicorn(live_url) as port:
        yield port


def test_two_huge_csv_uploads_at_once_do_not_stall_the_service(fresh_port: int) -> None:
    """The attack that killed a worker: ~31 MiB of 1.15 M invalid rows, twice at once."""
    port = fresh_port
    header = (
        b"sku,title,category,price,currency,stock,weight_grams,hs_code,origin_country,ships_to\n"
    )
    data = header + b"xxxx,yy,z,1,CNY,1,1,1,ZZ,ZZ\n" * 1_150_000
    assert 30 * 1024 * 1024 < len(data) < 32 * 1024 * 1024  # under MAX_UPLOAD_LENGTH
    tokens = [_bearer(port, f"big{n}@example.test") for n in range(2)]

    def upload(token: str) -> tuple[int, str, float]:
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request(
            "POST",
            "/api/v1/listings/import",
            data,
            {"Content-Type": "text/csv", "Authorization": f"Bearer {token}"},
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        return response.status, answer["code"], time.monotonic() - started

    def health() -> float:
        started = time.monotonic()
        assert _raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
        return time.monotonic() - started

    with ThreadPoolExecutor(3) as pool:
        uploads = [pool.submit(upload, token) for token in tokens]
        time.sleep(0.5)
        waits = []
        while not all(u.done() for u in uploads):
            waits.append(health())
            time.sleep(0.2)
        answers = [u.result() for u in uploads]
    assert [(status, code) for status, code, _s in answers] == [(422, "import_too_many_rows")] * 2
    assert max(seconds for _st, _c, seconds in answers) < 15, answers
    assert max(waits, default=0) < 3, waits
