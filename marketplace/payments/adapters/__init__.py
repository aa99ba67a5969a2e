"""Gateway implementations, chosen by configuration (PAYMENT_GATEWAYS)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from config import ConfigurationError
from marketplace.payments.adapters.manual import ManualGateway
from marketplace.payments.adapters.stripe import StripeGateway
from marketplace.payments.gateway import PaymentGateway

_FACTORIES: dict[str, Callable[[Mapping[str, Any]], PaymentGateway]] = {
    "manual": lambda settings: ManualGateway(),
    "stripe": StripeGateway.from_settings,
}


def build_gateways(settings: Mapping[str, Any]) -> dict[str, PaymentGateway]:
    """The enabled gateways by name, e.g. PAYMENT_GATEWAYS="manual,stripe"."""
    names = [
        name.strip()
        for name in str(settings.get("PAYMENT_GATEWAYS") or "").split(",")
        if name.strip()
    ]
    unknown = sorted(set(names) - set(_FACTORIES))
    if unknown:
        raise ConfigurationError(f"PAYMENT_GATEWAYS names unknown gateways: {', '.join(unknown)}")
    return {name: _FACTORIES[name](settings) for name in names}
