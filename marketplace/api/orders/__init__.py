"""Orders, shipments and seller shipping rates over HTTP: one blueprint, a module per resource.

The modules register their routes on `blp` in this order, which is the order of the paths in
the OpenAPI document.
"""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("orders", __name__, description="Orders, shipments and shipping rates")

from marketplace.api.orders import shipping_rates  # noqa: E402  isort: skip
from marketplace.api.orders import orders  # noqa: E402  isort: skip
from marketplace.api.orders import shipments  # noqa: E402  isort: skip

__all__ = ["blp", "orders", "shipments", "shipping_rates"]
