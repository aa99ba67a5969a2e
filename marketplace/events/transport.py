"""Sending a webhook: where it may go (no SSRF), how it is signed, the HTTP POST itself.

An endpoint's host is resolved when the endpoint is created and again at every delivery, and the
connection goes to the address that was checked (a DNS answer cannot change between the check
and the connection). Outside development only public addresses are allowed: never loopback,
private, link-local, shared, multicast or reserved ranges, where a request would reach the
platform's own network.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import ipaddress
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from marketplace.errors import Invalid
from marketplace.i18n import _

TIMEOUT_SECONDS = 10
MAX_RESPONSE_BYTES = 4096


class UnsafeTarget(Invalid):
    code = "webhook_url_not_allowed"
    default_detail = _(
        "Webhook URLs must use http or https and reach a public address on the internet."
    )


@dataclass(frozen=True)
class Target:
    """A checked URL: the host to name (Host header, TLS) and the address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str, *, allow_private: bool) -> Target:
    """The URL's target if it may be called; UnsafeTarget otherwise (resolving its host now)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        raise UnsafeTarget(errors={"url": [UnsafeTarget.default_detail]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        message = _("The webhook URL's host cannot be resolved.")
        raise UnsafeTarget(message, errors={"url": [message]}) from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    # Every address the name resolves to must be allowed: a client may connect to any of them.
    if not allow_private and not all(address.is_global for address in addresses):
        raise UnsafeTarget(errors={"url": [UnsafeTarget.default_detail]})
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def signature_headers(
    msg_id: str, body: str, secrets_: list[str], at: dt.datetime
) -> dict[str, str]:
    """Standard Webhooks headers; one signature per secret (two while a rotation overlaps)."""
    signatures = " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets_)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None
    error: str | None


class WebhookSender(Protocol):
    def send(self, url: str, body: str, headers: dict[str, str]) -> SendResult: ...


def _open_socket(address: str, port: int) -> socket.socket:
    """A connection that sends each request at once: without TCP_NODELAY a request on a kept-open
    connection waits for the receiver's delayed ACK (40 ms on Linux)."""
    sock = socket.create_connection((address, port), TIMEOUT_SECONDS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while naming the host in the request."""

    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS)
        self._address = target.address

    def connect(self) -> None:
        self.sock = _open_socket(self._address, self.port)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=TIMEOUT_SECONDS, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        sock = _open_socket(self._address, self.port)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


# A kept-open connection is reused while younger than this (receivers close idle ones anyway).
KEEP_ALIVE_SECONDS = 30.0
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass
class _Pooled:
    connection: http.client.HTTPConnection
    used_at: float


@dataclass(frozen=True)
class HttpSender:
    """POSTs over HTTP(S), checking the URL again first; redirects are not followed.

    Each worker thread keeps one connection open per checked target (host, port and the address
    it resolved to), so a batch to one endpoint pays for one TCP (and TLS) handshake, not one each.
    """

    allow_private: bool
    _pool: threading.local = field(default_factory=threading.local, compare=False, repr=False)

    def send(self, url: str, body: str, headers: dict[str, str]) -> SendResult:
        try:
            target = check_url(url, allow_private=self.allow_private)
        except UnsafeTarget as exc:
            return SendResult(False, None, str(exc.detail))
        pool: dict[Target, _Pooled] = self._pool.__dict__.setdefault("connections", {})
        pooled = pool.pop(target, None)
        if pooled is not None and time.monotonic() - pooled.used_at > KEEP_ALIVE_SECONDS:
            pooled.connection.close()
            pooled = None
        try:
            try:
                connection = pooled.connection if pooled else _connect(target)
                response = _post(connection, target, body, headers)
            except _STALE:
                if pooled is None:
                    raise
                # The receiver closed the kept-open connection before reading: try a fresh one.
                pooled.connection.close()
                connection = _connect(target)
                response = _post(connection, target, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            return SendResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
        if response.will_close or not response.isclosed():  # not reusable, or body left unread
            connection.close()
        else:
            pool[target] = _Pooled(connection, time.monotonic())
        ok = 200 <= response.status < 300
        return SendResult(ok, response.status, None if ok else f"HTTP {response.status}")


def _connect(target: Target) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target)
    return _PinnedHTTPConnection(target)


def _post(
    connection: http.client.HTTPConnection, target: Target, body: str, headers: dict[str, str]
) -> http.client.HTTPResponse:
    try:
        connection.request(
            "POST",
            target.path,
            body=body.encode(),
            headers={
                **headers,
                "Content-Type": "application/json",
                "User-Agent": "SilkRoadMarketplace-Webhooks/1",
            },
        )
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
    except BaseException:
        connection.close()
        raise
    return response
