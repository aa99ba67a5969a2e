"""The seam to the customs landed-cost engine: one call per shipment, duties and taxes back.

Orders build a `ShipmentForCustoms` for each seller's parcel and ask a `LandedCostEstimator`
for its landed cost in the order currency; checkout provides the estimator (the customs engine
with the order's rates and day).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from marketplace.customs.landed_cost import Incoterm, LandedCost
from marketplace.money import Money


@dataclass(frozen=True)
class CustomsItem:
    """One line of a parcel as customs sees it; values are in the order currency."""

    hs_code: str
    origin_country: str
    quantity: int
    unit_value: Money
    unit_weight_grams: int

    @property
    def total_value(self) -> Money:
        return self.unit_value * self.quantity


@dataclass(frozen=True)
class ShipmentForCustoms:
    from_country: str
    to_country: str
    incoterm: Incoterm
    currency: str
    items: tuple[CustomsItem, ...]
    shipping: Money


class LandedCostEstimator(Protocol):
    def __call__(self, session: Session, shipment: ShipmentForCustoms) -> LandedCost: ...
