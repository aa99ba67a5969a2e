"""Payments: the gateway interface and its adapters, payment records, webhooks applied once, the sellers' ledger."""
