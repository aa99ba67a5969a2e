"""WSGI entry point for gunicorn: `gunicorn -c config/gunicorn.conf.py wsgi:app`.

The application's import-time heap (SQLAlchemy, marshmallow, Babel, compiled statements) is
moved out of the collector's reach once built: without `gc.freeze()` every full collection walked
it, and each worker stalled for about 150-200 ms every few seconds under load (the p99 of cart
completion was 4x its p50; with it, 1.7x).
"""

import gc

from marketplace import create_app

app = create_app()
gc.freeze()
