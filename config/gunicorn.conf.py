"""gunicorn settings: bind, workers and JSON access logs, all overridable by environment."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
# The application answers over-long URLs itself (a problem+json 414), so gunicorn must let them in.
limit_request_line = 0
accesslog = os.environ.get("ACCESS_LOG", "-")
access_log_format = (
    '{"ts":"%(t)s","remote":"%(h)s","request":"%(r)s","status":%(s)s,'
    '"bytes":"%(B)s","ms":%(M)s,"request_id":"%({x-request-id}o)s"}'
)
