"""The demo marketplace that `make run` serves: each domain adds its part, in dependency order.

Every step looks up what it would create first, so loading twice changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from marketplace.demo import accounts as accounts_demo
from marketplace.demo import catalogue as catalogue_demo
from marketplace.demo import customs as customs_demo
from marketplace.demo import money as money_demo
from marketplace.demo import orders as orders_demo
from marketplace.demo import payments as payments_demo


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
