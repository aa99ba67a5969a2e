"""Background work on a Huey task queue: event hand-on, webhooks, emails, documents, schedules.

`Jobs(app)` registers the tasks of one application on its queue (Redis in production, a SQLite
file for `make run`, memory in tests); `flask worker` runs them. Web processes only enqueue.
"""
