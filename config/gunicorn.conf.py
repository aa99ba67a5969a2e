"""gunicorn settings: bind, workers and JSON access logs, all overridable by environment.

Rate limits must be counted where every worker sees them. With REDIS_URL they live in Redis and
any number of workers may run; without it (`make run`, nothing else started) they live in process
memory, so one worker process serves with several threads: every thread sees the same counters,
and SQLite in WAL mode serves their reads in parallel (its one writer at a time is the limit a
second process would not lift).
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
_shared_limits = bool(os.environ.get("REDIS_URL"))
if _shared_limits:
    workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
elif int(os.environ.get("WEB_CONCURRENCY", "1")) > 1:
    raise SystemExit(
        "WEB_CONCURRENCY > 1 needs REDIS_URL: rate limits in process memory would be per worker"
    )
else:
    workers = 1
threads = int(os.environ.get("GUNICORN_THREADS", "1" if _shared_limits else "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
# A request line or header beyond these is refused by gunicorn itself (414, 431) before any
# worker reads further: an 8 MB URL must not hold a worker while it arrives.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = os.environ.get("ACCESS_LOG", "-")
access_log_format = (
    '{"ts":"%(t)s","remote":"%(h)s","request":"%(r)s","status":%(s)s,'
    '"bytes":"%(B)s","ms":%(M)s,"request_id":"%({x-request-id}o)s"}'
)
