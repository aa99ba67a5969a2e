"""Enqueue-and-run throughput of Huey and Dramatiq on the local Redis (one worker thread each).

Run: .venv/bin/pip install dramatiq && .venv/bin/python scripts/measure_task_queues.py [tasks] [db]
Each library gets the same job: N tasks that each increment a Redis counter; the figure is the
time from the first enqueue until the worker has run the last one. Uses its own Redis database
and flushes only that database.
"""

from __future__ import annotations

import sys
import threading
import time

import redis

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
DB = int(sys.argv[2]) if len(sys.argv) > 2 else 12
URL = f"redis://127.0.0.1:6379/{DB}"


def wait_for(counter: redis.Redis, key: str, n: int) -> None:
    while int(counter.get(key) or 0) < n:
        time.sleep(0.005)


def measure_huey() -> tuple[float, float]:
    from huey import RedisHuey
    from huey.consumer import Consumer

    huey = RedisHuey("measure", url=URL, blocking=True)
    counter = redis.Redis.from_url(URL)

    @huey.task()
    def bump() -> None:
        counter.incr("huey-done")

    consumer = Consumer(huey, workers=1, worker_type="thread", periodic=False)
    consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
    started = time.perf_counter()
    for _ in range(N):
        bump()
    enqueued = time.perf_counter() - started
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    wait_for(counter, "huey-done", N)
    total = time.perf_counter() - started
    consumer.stop(graceful=True)
    return enqueued, total


def measure_dramatiq() -> tuple[float, float]:
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=URL)
    dramatiq.set_broker(broker)
    counter = redis.Redis.from_url(URL)

    @dramatiq.actor(broker=broker, max_retries=0)
    def bump() -> None:
        counter.incr("dramatiq-done")

    started = time.perf_counter()
    for _ in range(N):
        bump.send()
    enqueued = time.perf_counter() - started
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    wait_for(counter, "dramatiq-done", N)
    total = time.perf_counter() - started
    worker.stop()
    return enqueued, total


def main() -> None:
    redis.Redis.from_url(URL).flushdb()
    for name, measure in (("huey", measure_huey), ("dramatiq", measure_dramatiq)):
        enqueued, total = measure()
        print(
            f"{name:9} {N} tasks: enqueue {N / enqueued:7.0f}/s, "
            f"enqueue+run {N / total:6.0f}/s ({total:.2f} s)"
        )
    redis.Redis.from_url(URL).flushdb()


if __name__ == "__main__":
    main()
