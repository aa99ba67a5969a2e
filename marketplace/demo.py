"""The demo marketplace that `make run` serves: each domain adds its part, in dependency order.

Every step looks up what it would create first, so loading twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from marketplace.accounts import demo as accounts_demo
from marketplace.catalogue import demo as catalogue_demo
from marketplace.customs import demo as customs_demo
from marketplace.money import demo as money_demo
from marketplace.orders import demo as orders_demo
from marketplace.payments import demo as payments_demo


def load_demo(session: Session, settings: dict[str, Any]) -> str:
    lines = []
    for step in (
        accounts_demo.load,
        money_demo.load,
        catalogue_demo.load,
        orders_demo.load,
        payments_demo.load,
        customs_demo.load,
    ):
        lines.append(step(session, settings))
        session.flush()
    return "\n".join(lines)
