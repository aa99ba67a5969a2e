"""Settings: defaults here, a profile on top (APP_ENV), then environment variables.

Every setting an operator may change is listed in DEFAULTS with its type; the README's
configuration table is this dictionary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    "APP_ENV": "development",
    "SECRET_KEY": "dev-only-not-secret",
    "DATABASE_URL": "sqlite:///instance/marketplace.sqlite",
    "REDIS_URL": "",
    "CORS_ORIGINS": "*",
    "TOKEN_TTL": 7 * 24 * 3600,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_UPLOAD_LENGTH": 32 * 1024 * 1024,
    "TOKEN_RATE_LIMIT": "10 per minute",
    "REGISTER_RATE_LIMIT": "20 per hour",
    "TRUSTED_PROXIES": "",
    "MAX_IMPORT_ROWS": 20000,
    "MAX_IMPORT_ERRORS": 100,
    "MAX_UNPAID_ORDERS_PER_BUYER": 5,
    "MAX_RESERVED_UNITS_PER_BUYER_LISTING": 20,
    "MAX_RATE_AGE": 3 * 24 * 3600,
    "CATALOGUE_RATES_TTL": 10,
    "MAX_IMAGE_BYTES": 10 * 1024 * 1024,
    "MAX_IMAGE_PIXELS": 40_000_000,
    "MEDIA_ROOT": "instance/media",
    "MEDIA_URL": "",
    "ORDER_RESERVATION_MINUTES": 30,
    "CART_TTL_DAYS": 30,
    "PLATFORM_COMMISSION_BPS": 800,
    "PAYMENT_GATEWAYS": "manual,stripe",
    "STRIPE_API_KEY": "",
    "STRIPE_PUBLISHABLE_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    "STRIPE_API_BASE": "",
    "STRIPE_WEBHOOK_TOLERANCE": 300,
    # The platform's bank accounts by currency ("*": one that takes any), as JSON; empty: no
    # bank transfer is offered. Each: {beneficiary, bank_name, iban?, account_number?, swift_bic?}.
    "BANK_TRANSFER_ACCOUNTS": "",
    "BANK_TRANSFER_DAYS": 7,
    # The destinations each gateway is offered for, as JSON {gateway: ["KZ", "UZ", ...]}; a
    # gateway left out (or empty: all of them) is offered for every country.
    "PAYMENT_COUNTRIES": "",
    "LOG_LEVEL": "INFO",
    # Background jobs: redis://... (production, shared by every worker), sqlite:///FILE (one
    # machine, no other server), memory:// or immediate:// (tests: kept, or run at once in the
    # queuing process); empty: REDIS_URL if set, else sqlite:///instance/tasks.sqlite.
    "TASK_QUEUE_URL": "",
    "TASK_QUEUE_NAME": "marketplace",  # the queue's key prefix in Redis
    "WORKER_THREADS": 8,  # jobs wait on the database and receivers more than they compute
    "SMTP_URL": "",  # smtp://user:password@host:587 or smtps://...; empty: emails go to the log
    "MAIL_FROM": "Silk Road Marketplace <no-reply@silkroad.example>",
    "RATES_URL": "",  # the ECB's eurofxref-daily.xml, imported daily by the worker when set
    # Webhook URLs on loopback or private networks: allowed in development only (SSRF).
    "WEBHOOK_ALLOW_PRIVATE": False,
    # OWASP's Argon2id baseline (19 MiB, 2 passes): memory-hard, yet ~30 ms so logins survive load.
    "PASSWORD_HASH_MEMORY_KIB": 19456,
    "PASSWORD_HASH_TIME_COST": 2,
}

# A made-up account for demos and tests (IBAN with valid check digits, no real bank behind it).
DEMO_BANK_ACCOUNTS = (
    '{"*": {"beneficiary": "Silk Road Marketplace Demo Ltd", "bank_name": "Demo Bank",'
    ' "iban": "GB82WEST12345698765432", "swift_bic": "DEMOGB2L"}}'
)

PROFILES: dict[str, dict[str, Any]] = {
    "development": {"WEBHOOK_ALLOW_PRIVATE": True, "BANK_TRANSFER_ACCOUNTS": DEMO_BANK_ACCOUNTS},
    "test": {
        "BANK_TRANSFER_ACCOUNTS": DEMO_BANK_ACCOUNTS,
        "TOKEN_RATE_LIMIT": "1000 per minute",
        "REGISTER_RATE_LIMIT": "100000 per minute",
        # Tests place many orders per buyer; the hoarding tests set their own limits.
        "MAX_UNPAID_ORDERS_PER_BUYER": 1000,
        "MAX_RESERVED_UNITS_PER_BUYER_LISTING": 1_000_000,
        "PASSWORD_HASH_MEMORY_KIB": 1024,
        "PASSWORD_HASH_TIME_COST": 1,
        "CATALOGUE_RATES_TTL": 0,
        "TASK_QUEUE_URL": "memory://",
    },
    "production": {"CORS_ORIGINS": ""},
}

# Settings a production start must be given explicitly: a default would be a security hole.
# REDIS_URL too: several workers on several machines must count rate limits in one place.
PRODUCTION_SECRETS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
)


class ConfigurationError(RuntimeError):
    """Raised at start when the configuration cannot run safely."""


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge defaults, the APP_ENV profile, environment variables and explicit overrides."""
    env = os.environ if environ is None else environ
    profile = (overrides or {}).get("APP_ENV") or env.get("APP_ENV") or DEFAULTS["APP_ENV"]
    if profile not in PROFILES:
        raise ConfigurationError(f"APP_ENV={profile!r} is not one of {sorted(PROFILES)}")
    settings = {**DEFAULTS, **PROFILES[profile], "APP_ENV": profile}
    for key, default in DEFAULTS.items():
        if key in env and key != "APP_ENV":
            settings[key] = _coerce(key, env[key], default)
    settings.update(overrides or {})
    if profile == "production":
        missing = [
            key for key in PRODUCTION_SECRETS if not env.get(key) and not (overrides or {}).get(key)
        ]
        if missing:
            raise ConfigurationError(
                "production start refused: set " + ", ".join(missing) + " in the environment"
            )
    return settings


def _coerce(key: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{key} must be a whole number, got {raw!r}") from exc
    return raw
