"""Rate limits: in process memory by default, shared through Redis when REDIS_URL is set.

The client address is the socket's, or the one a trusted proxy forwarded (`proxies.py`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter


def client_address() -> str:
    return request.remote_addr or "-"


def address_and_email() -> str:
    """Failed logins count per address *and* email: a stranger elsewhere cannot lock a user out."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    email = email.strip().lower() if isinstance(email, str) else "-"
    return f"login:{client_address()}:{email}"


def failed_login(response: Response) -> bool:
    return response.status_code == 401


limiter = Limiter(key_func=client_address, headers_enabled=True, strategy="moving-window")


def init_limiter(app: Flask, settings: dict[str, Any]) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"] or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "marketplace"
    limiter.init_app(app)


def token_rate() -> str:
    rate: str = current_app.config["MARKETPLACE"]["TOKEN_RATE_LIMIT"]
    return rate


def register_rate() -> str:
    rate: str = current_app.config["MARKETPLACE"]["REGISTER_RATE_LIMIT"]
    return rate
