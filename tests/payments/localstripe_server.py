"""Real localstripe, served in-process on 127.0.0.1 with its disk persistence turned off, plus a
small webhook receiver; and OUR OWN fake of Stripe Connect transfers, which localstripe lacks.

localstripe's CLI listens on every interface and pickles its whole state to /tmp/localstripe.pickle
after each write (Store.__setitem__ and a middleware both call Store.dump_to_disk). Here its
aiohttp routes are mounted on a fresh Application without the saving middleware, the store's
dump_to_disk is replaced by a no-op, and the site is bound to 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiohttp import web
from localstripe import server as localstripe_server
from localstripe.resources import store

_transfer_ids = itertools.count(1)


@dataclass
class FakeConnect:
    """OUR fake of POST /v1/transfers (Stripe Connect): records what the real SDK sent."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    async def create_transfer(self, request: web.Request) -> web.Response:
        data = await localstripe_server.get_post_data(request) or {}
        self.requests.append(
            {"data": dict(data), "idempotency_key": request.headers.get("Idempotency-Key")}
        )
        return web.json_response(
            {
                "id": f"tr_fake_{next(_transfer_ids)}",
                "object": "transfer",
                "amount": int(data["amount"]),
                "currency": data["currency"],
                "destination": data["destination"],
                "metadata": data.get("metadata") or {},
            }
        )


@dataclass
class LocalStripe:
    url: str
    connect: FakeConnect
    stop: Callable[[], None]

    def stored(self, kind: str, object_id: str) -> Any:
        """The object as localstripe holds it (e.g. kind 'payment_intent')."""
        return store[f"{kind}:{object_id}"]

    def register_webhook(self, name: str, url: str, secret: str) -> None:
        body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        with urllib.request.urlopen(
            f"{self.url}/_config/webhooks/{name}", data=body, timeout=5
        ) as answer:
            assert answer.status == 200


def start_localstripe() -> LocalStripe:
    store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    store.clear()
    connect = FakeConnect()
    app = web.Application(
        middlewares=[localstripe_server.error_middleware, localstripe_server.auth_middleware]
    )
    app.router.add_post("/v1/transfers", connect.create_transfer)
    for route in localstripe_server.app.router.routes():
        if route.method != "HEAD" and route.resource is not None:
            app.router.add_route(route.method, route.resource.canonical, route.handler)

    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    address: list[str] = []
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        host, port = runner.addresses[0][:2]
        address.append(f"http://{host}:{port}")
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="localstripe", daemon=True)
    thread.start()
    assert ready.wait(10), "localstripe did not start"

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return LocalStripe(url=address[0], connect=connect, stop=stop)


@dataclass
class Delivery:
    body: bytes
    signature: str | None


class WebhookReceiver:
    """Collects what localstripe POSTs, so a test can hand the exact bytes to our endpoint."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._changed:
                    receiver.deliveries.append(Delivery(body, self.headers.get("Stripe-Signature")))
                    receiver._changed.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()

    def wait_for(self, *needles: str, timeout: float = 10.0) -> Delivery:
        """The first delivery whose body contains every needle (localstripe sends a second later)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for delivery in self.deliveries:
                    if all(needle.encode() in delivery.body for needle in needles):
                        return delivery
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"no webhook containing {needles!r} arrived"
                self._changed.wait(remaining)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
