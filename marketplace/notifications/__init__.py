"""Emails to buyers and sellers about their orders, in each recipient's language."""
