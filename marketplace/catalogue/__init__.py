"""Catalogue: sellers' listings, their translations, categories, CSV import and public browsing."""
