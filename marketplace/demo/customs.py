"""Demo customs paperwork: the demo broker is designated on the paid demo order's shipments and
their documents are issued, so `make run` shows documents, declarations and a manifest at once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import services as accounts
from marketplace.accounts.models import OrganisationKind, User
from marketplace.db import utcnow
from marketplace.errors import DomainError
from marketplace.orders import lifecycle, queries
from marketplace.paperwork import shipments

DEMO_BUYER = "buyer@demo.example"
DEMO_BROKER = "broker@demo.example"


def load(session: Session, settings: dict[str, Any]) -> str:
    buyer = session.scalar(select(User).where(User.email_key == DEMO_BUYER))
    broker = session.scalar(select(User).where(User.email_key == DEMO_BROKER))
    if buyer is None or broker is None:
        return "customs: no demo buyer or broker"
    brokerages = accounts.organisation_ids(session, broker.id, OrganisationKind.BROKERAGE)
    now = utcnow()
    issued = 0
    for view in queries.list_orders(session, buyer, now=now, limit=10, cursor=None).items:
        for shipment in view.shipments:
            if shipment.status not in shipments.PAID:
                continue
            try:
                if shipment.brokerage_id is None and brokerages:
                    lifecycle.designate_broker(session, buyer, shipment.id, brokerages[0], now=now)
                # Idempotent: the same declaration renders the same bytes, so no new version.
                shipments.issue(session, shipment.id, now=now)
            except DomainError as exc:  # e.g. a rate set without XDR: the demo serves the rest
                return f"customs: no demo documents ({exc.error_code})"
            issued += 1
    return f"customs: documents issued for {issued} paid demo shipments (broker {DEMO_BROKER} designated)"
