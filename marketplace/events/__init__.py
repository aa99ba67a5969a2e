"""Events leaving the platform: webhook endpoints and deliveries, emails, the dispatcher.

The outbox (`marketplace/outbox.py`) holds what happened; this package hands each event to the
webhook endpoints that asked for it and to the people it concerns, at least once, with retries.
"""
