"""The demo prices shipping for every demo seller, and loading it twice changes nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.orders.models import ShippingRate


def test_demo_sellers_get_shipping_rates_once(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "shipping rates for 6 sellers" in first.output
    count = session.scalar(select(func.count()).select_from(ShippingRate))
    assert count and count >= 6 * 2
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert session.scalar(select(func.count()).select_from(ShippingRate)) == count
