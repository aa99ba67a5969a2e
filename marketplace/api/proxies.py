"""X-Forwarded-For and X-Forwarded-Proto, believed only from the proxies TRUSTED_PROXIES names.

Behind a reverse proxy every client arrives from the proxy's address, so rate limits would count
them all as one, and a TLS proxy makes every request look like plain HTTP. werkzeug's ProxyFix
reads the forwarded headers, but believes whoever sends them; here it runs only for requests that
come from a configured proxy address or network, so a client cannot pick its own address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(setting: str) -> list[Network]:
    """`10.0.0.1, 10.1.0.0/16, ::1` as networks; a malformed entry stops the start."""
    return [
        ipaddress.ip_network(item.strip(), strict=False)
        for item in setting.split(",")
        if item.strip()
    ]


class TrustedProxyFix:
    """Apply ProxyFix (one hop of X-Forwarded-For and -Proto) only to requests from a trusted proxy."""

    def __init__(self, app: Any, networks: Iterable[Network]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)
        self.networks = list(networks)

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
