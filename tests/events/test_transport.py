"""The webhook sender keeps a connection open per endpoint and thread, as receivers expect."""

from __future__ import annotations

import statistics
import threading
import time

from marketplace.events.transport import HttpSender
from tests.events.receiver import Receiver


def test_deliveries_to_one_endpoint_share_one_connection_and_wait_for_no_delayed_ack(
    receiver: Receiver,
) -> None:
    sender = HttpSender(allow_private=True)
    took = []
    for i in range(20):
        started = time.monotonic()
        assert sender.send(receiver.url, f'{{"n": {i}}}', {}).ok
        took.append(time.monotonic() - started)
    received = receiver.wait_for(20)
    assert len({r.peer for r in received}) == 1  # one TCP connection for all twenty
    # Without TCP_NODELAY each request on a kept-open connection waited ~40 ms for the ACK.
    assert statistics.median(took) < 0.03, took


def test_each_worker_thread_opens_its_own_connection(receiver: Receiver) -> None:
    sender = HttpSender(allow_private=True)
    assert sender.send(receiver.url, "{}", {}).ok
    other = threading.Thread(target=lambda: sender.send(receiver.url, "{}", {}))
    other.start()
    other.join()
    assert sender.send(receiver.url, "{}", {}).ok
    first, second, third = receiver.wait_for(3)
    assert first.peer != second.peer and third.peer == first.peer
