"""Event tests: a real webhook receiver on loopback, tasks run at once in the test's process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.events.receiver import Receiver, start_receiver
from tests.orders.conftest import current_rates, market  # noqa: F401 (fixtures reused)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = start_receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    """Huey's immediate mode runs each task as it is queued (after the request's commit), so a
    request's webhooks have arrived when it returns; the receiver is on loopback."""
    return {**app_settings, "TASK_QUEUE_URL": "immediate://", "WEBHOOK_ALLOW_PRIVATE": True}
