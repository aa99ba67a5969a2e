"""Customs documents: rendering a declaration to PDF, issuing it immutably, bundles and manifests."""
