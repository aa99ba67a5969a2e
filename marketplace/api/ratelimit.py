"""Rate limits: in process memory by default, shared through Redis when REDIS_URL is set."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def client_address() -> str:
    return get_remote_address()


def email_in_body() -> str:
    """Key a limit on the account being tried, so spreading guesses over addresses does not help."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"email:{email.strip().lower()}" if isinstance(email, str) else "email:-"


limiter = Limiter(key_func=client_address, headers_enabled=True, strategy="moving-window")


def init_limiter(app: Flask, settings: dict[str, Any]) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"] or "memory://"
    app.config["RATELIMIT_KEY_PREFIX"] = "marketplace"
    limiter.init_app(app)


def token_rate() -> str:
    from flask import current_app

    rate: str = current_app.config["MARKETPLACE"]["TOKEN_RATE_LIMIT"]
    return rate
