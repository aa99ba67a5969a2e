"""Silk Road Marketplace: create_app is the one place that wires settings, database, i18n and API."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, has_request_context
from flask.typing import ResponseReturnValue
from flask_cors import CORS
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from config import load_settings
from marketplace.accounts.services import AccountNotices
from marketplace.api.proxies import TrustedProxyFix, parse_networks
from marketplace.catalogue.media import FilesystemMediaStore
from marketplace.db import is_write_conflict, make_engine, make_session_factory


class MarketplaceFlask(Flask):
    """Flask that commits the request's unit of work when, and only when, the view succeeded.

    Committing here rather than in after_request means a failed commit (a constraint the
    database enforces) still reaches the error handlers and becomes a problem+json answer.
    """

    def dispatch_request(self) -> ResponseReturnValue:
        try:
            return self._dispatch_and_commit()
        except OperationalError as error:
            if not is_write_conflict(error) or g.get("db_writes"):
                raise
        # A read that had to write (an expired order, documents issued on first read) met
        # another writer on SQLite: run it again from the start, as a writer.
        from marketplace.api.context import retry_as_writer

        retry_as_writer()
        return self._dispatch_and_commit()

    def _dispatch_and_commit(self) -> ResponseReturnValue:
        result = super().dispatch_request()
        session = g.get("db")
        if session is not None:
            session.commit()
        return result


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _configure_logging(level: str) -> None:
    root = logging.getLogger("marketplace")
    if not any(isinstance(h.formatter, JsonLogFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLogFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def _wire_payments(app: Flask, settings: Mapping[str, Any]) -> None:
    """The payment gateways PAYMENT_GATEWAYS enables, and who hears about payment changes."""
    from marketplace.checkout.listeners import payment_listeners
    from marketplace.payments.adapters import build_gateways, gateway_countries

    gateways = build_gateways(settings)
    app.extensions["marketplace"]["payment_gateways"] = gateways
    app.extensions["marketplace"]["payment_countries"] = gateway_countries(settings)
    app.extensions["marketplace"]["payment_listeners"] = payment_listeners(
        int(settings["PLATFORM_COMMISSION_BPS"]), gateways
    )


def create_app(
    overrides: Mapping[str, Any] | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
) -> MarketplaceFlask:
    """Build the application; tests pass a session factory bound to their own transaction."""
    settings = load_settings(overrides=overrides)
    app = MarketplaceFlask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        MAX_CONTENT_LENGTH=settings["MAX_CONTENT_LENGTH"],
        MARKETPLACE=settings,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    _configure_logging(settings["LOG_LEVEL"])

    if session_factory is None:
        engine = make_engine(settings["DATABASE_URL"])
        session_factory = make_session_factory(engine)
    app.extensions["marketplace"] = {
        "session_factory": session_factory,
        "media_store": FilesystemMediaStore(settings["MEDIA_ROOT"]),
        # Where "tell the person by email" hooks in: replace these with senders when email exists.
        "account_notices": AccountNotices(),
    }
    _wire_payments(app, settings)

    origins = [o.strip() for o in settings["CORS_ORIGINS"].split(",") if o.strip()]
    if origins:
        CORS(
            app,
            resources={r"/api/*": {"origins": origins}},
            expose_headers=[
                "ETag",
                "X-Request-ID",
                "Content-Language",
                "Retry-After",
                "Idempotent-Replayed",
                "Content-Disposition",
            ],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-None-Match",
                "Accept-Language",
                "X-Request-ID",
            ],
            max_age=600,
        )

    from marketplace.api import init_api
    from marketplace.api.ratelimit import init_limiter
    from marketplace.cli import register_commands

    init_api(app)
    init_limiter(app, settings)
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, parse_networks(settings["TRUSTED_PROXIES"]))  # type: ignore[method-assign]
    register_commands(app)
    _wire_jobs(app, settings, session_factory)
    return app


def _wire_jobs(app: Flask, settings: Mapping[str, Any], sessions: sessionmaker[Session]) -> None:
    """The background tasks on their queue; web processes enqueue, `flask worker` runs them."""
    from marketplace.jobs.tasks import Jobs

    app.extensions["marketplace"]["jobs"] = Jobs(app, settings, sessions)
