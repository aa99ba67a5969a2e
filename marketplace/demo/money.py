"""Demo exchange rates: one set covering every currency the demo sellers and buyers use.

These are illustrative values typed in for the demo (roughly the market in late 2025), not a
published source: the set is stored with source "demo" and dated the day it is loaded, so the
demo can take orders. Real rates come from `flask rates import` and `PUT /rates`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.money.models import RateSet, SourceKind
from marketplace.money.services import store_rates
from marketplace.money.sources import IncomingRates

# Units per 1 EUR.
DEMO_RATES = {
    "AED": "4.26",
    "CNY": "8.25",
    "GBP": "0.88",
    "JPY": "180.5",
    "KWD": "0.356",
    "KZT": "600.4",
    "PKR": "328.1",
    "RUB": "94.2",
    "SAR": "4.35",
    "TRY": "49.1",
    "USD": "1.16",
    "UZS": "13980",
    "XDR": "0.852",
}


def load(session: Session, settings: dict[str, Any]) -> str:
    now = utcnow()
    exists = session.scalar(
        select(RateSet.id).where(RateSet.source == SourceKind.DEMO, RateSet.as_of == now.date())
    )
    if exists is None:
        store_rates(
            session,
            IncomingRates(
                base="EUR",
                as_of=now.date(),
                source=SourceKind.DEMO,
                rates={code: Decimal(rate) for code, rate in DEMO_RATES.items()},
                origin="demo data: illustrative rates, not from a published source",
            ),
            now,
        )
    return f"money: demo rate set of {now.date()} (EUR base, {len(DEMO_RATES)} currencies, source 'demo')"
