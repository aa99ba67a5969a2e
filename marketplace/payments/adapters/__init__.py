"""Gateway implementations, chosen by configuration (PAYMENT_GATEWAYS)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from config import ConfigurationError
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import PaymentGateway

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
