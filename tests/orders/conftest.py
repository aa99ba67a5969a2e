"""Every order test runs with the orders' rates loaded (tests.factories.ORDER_RATES)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _rates_loaded(current_rates: str) -> None:
    """Rates are loaded for every test here, whether or not it asks for `current_rates`."""
