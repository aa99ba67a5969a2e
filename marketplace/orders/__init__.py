"""Orders: checkout across sellers and currencies, stock reservation, shipments, idempotency."""
