"""Paperwork: a shipment's customs declaration and documents, built from what orders sold, the
catalogue's translations and the customs rules; corrections and the brokers' manifests."""
