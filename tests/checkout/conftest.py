"""Checkout tests share localstripe with the payments tests."""

from tests.payments.conftest import localstripe

__all__ = ["localstripe"]
