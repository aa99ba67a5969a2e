"""Event tests: a real webhook receiver on loopback, tasks run at once in the test's process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.events.receiver import Receiver, start_receiver
from tests.events.smtp_server import Mailbox, start_smtp
from tests.factories import ORDER_RATES, rate_table, store_rates


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[str, Mailbox]]:
    """A real SMTP server on loopback and its URL, for tests that set SMTP_URL to it."""
    controller, mailbox = start_smtp()
    yield f"smtp://{controller.hostname}:{controller.port}", mailbox
    controller.stop()


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    """Huey's immediate mode runs each task as it is queued (after the request's commit), so a
    request's webhooks have arrived when it returns; the receiver is on loopback."""
    return {**app_settings, "TASK_QUEUE_URL": "immediate://", "WEBHOOK_ALLOW_PRIVATE": True}


@pytest.fixture
def sdr_rate(session: Session, current_rates: str) -> None:
    """The test rates with an SDR rate, stored after them: the CN 22 / CN 23 line of the
    documents is in SDR."""
    store_rates(session, rate_table({**ORDER_RATES.rates, "XDR": "0.833"}))
