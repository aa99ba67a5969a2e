"""Gateway implementations, chosen by configuration (PAYMENT_GATEWAYS)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from config import ConfigurationError
from marketplace.countries import is_country
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import PaymentGateway, PaymentKind

_FACTORIES: dict[str, Callable[[Mapping[str, Any]], PaymentGateway]] = {
    "manual": ManualGateway.from_settings,
    "stripe": StripeGateway.from_settings,
}
# What each gateway needs before it can take money; without it the gateway is not offered.
_CONFIGURED: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "manual": lambda settings: bool(str(settings.get("BANK_TRANSFER_ACCOUNTS") or "").strip()),
    "stripe": lambda settings: bool(settings.get("STRIPE_API_KEY")),
}
GATEWAY_NAMES = frozenset(_FACTORIES)
# Where the buyer wires the money themselves: what an order that will not be paid stops awaiting.
TRANSFER_GATEWAYS = frozenset(
    gateway.name
    for gateway in (ManualGateway, StripeGateway)
    if gateway.kind is PaymentKind.BANK_TRANSFER
)


def build_gateways(settings: Mapping[str, Any]) -> dict[str, PaymentGateway]:
    """The enabled and configured gateways by name, e.g. PAYMENT_GATEWAYS="manual,stripe".

    A gateway named but not configured (Stripe without keys, bank transfer without accounts) is
    left out: buyers are not offered it, and asking for it is a 409 at once.
    """
    names = [
        name.strip()
        for name in str(settings.get("PAYMENT_GATEWAYS") or "").split(",")
        if name.strip()
    ]
    unknown = sorted(set(names) - set(_FACTORIES))
    if unknown:
        raise ConfigurationError(f"PAYMENT_GATEWAYS names unknown gateways: {', '.join(unknown)}")
    return {name: _FACTORIES[name](settings) for name in names if _CONFIGURED[name](settings)}


def gateway_countries(settings: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """PAYMENT_COUNTRIES: JSON {gateway: [ISO 3166-1 alpha-2 codes]}, the destinations each
    gateway is offered for (a storefront lists a buyer's methods by country). A gateway left out
    is offered everywhere."""
    raw = str(settings.get("PAYMENT_COUNTRIES") or "").strip()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
        countries = {str(name): frozenset(str(c) for c in codes) for name, codes in data.items()}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"PAYMENT_COUNTRIES is not valid: {exc}") from exc
    unknown = sorted(set(countries) - GATEWAY_NAMES)
    wrong = sorted(c for codes in countries.values() for c in codes if not is_country(c))
    if unknown or wrong:
        raise ConfigurationError(
            f"PAYMENT_COUNTRIES names unknown gateways or countries: {unknown + wrong}"
        )
    return countries
