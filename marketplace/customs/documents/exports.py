"""What brokers take away: a ZIP of a shipment's documents and a manifest of items (CSV or JSON).

Pure functions over stored documents and declarations: the HTTP layer decides who may call them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from marketplace.customs.declaration import Declaration
from marketplace.spreadsheet_csv import to_csv

MANIFEST_FIELDS = (
    "shipment_id",
    "invoice_number",
    "invoice_date",
    "form",
    "incoterm",
    "currency",
    "exporter_name",
    "exporter_country",
    "exporter_tax_id",
    "exporter_eori",
    "importer_name",
    "importer_country",
    "line",
    "description",
    "description_original",
    "hs_code",
    "origin_country",
    "quantity",
    "net_weight_grams",
    "unit_value",
    "total_value",
    "shipment_total_value",
    "shipment_gross_weight_grams",
)


class StoredDocument(Protocol):
    kind: str
    language: str
    version: int
    sha256: str
    content: bytes


def document_filename(document: StoredDocument) -> str:
    return f"{document.kind}-{document.language}-v{document.version}.pdf"


def bundle(documents: Iterable[StoredDocument]) -> bytes:
    """A ZIP of the documents plus SHA256SUMS, byte-identical for the same documents.

    PDFs are already compressed, so entries are stored; the fixed entry dates make the archive
    itself reproducible.
    """
    buffer = io.BytesIO()
    sums: list[str] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for document in documents:
            name = document_filename(document)
            archive.writestr(
                zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), document.content
            )
            sums.append(f"{document.sha256}  {name}\n")
        archive.writestr(
            zipfile.ZipInfo("SHA256SUMS", date_time=(1980, 1, 1, 0, 0, 0)), "".join(sums)
        )
    return buffer.getvalue()


@dataclass(frozen=True)
class ManifestEntry:
    """One shipment's declaration as the manifest sees it."""

    shipment_id: str
    declaration: Declaration


def manifest_rows(entries: Iterable[ManifestEntry]) -> list[dict[str, Any]]:
    """One row per item of every shipment, with the shipment's facts repeated on each row."""
    rows: list[dict[str, Any]] = []
    for entry in entries:
        d = entry.declaration
        shared = {
            "shipment_id": entry.shipment_id,
            "invoice_number": d.invoice_number,
            "invoice_date": d.invoice_date.isoformat(),
            "form": d.form,
            "incoterm": d.incoterm,
            "currency": d.currency,
            "exporter_name": d.exporter.name,
            "exporter_country": d.exporter.country,
            "exporter_tax_id": d.exporter.tax_id or "",
            "exporter_eori": d.exporter.eori or "",
            "importer_name": d.importer.name,
            "importer_country": d.importer.country,
        }
        for number, item in enumerate(d.items, start=1):
            rows.append(
                {
                    **shared,
                    "line": number,
                    "description": item.description,
                    "description_original": item.description_original,
                    "hs_code": item.hs_code,
                    "origin_country": item.origin_country,
                    "quantity": item.quantity,
                    "net_weight_grams": item.net_weight_grams,
                    "unit_value": item.unit_value.to_api()["amount"],
                    "total_value": item.total_value.to_api()["amount"],
                    "shipment_total_value": d.total_value.to_api()["amount"],
                    "shipment_gross_weight_grams": d.gross_weight_grams,
                }
            )
    return rows


def manifest_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The manifest as CSV (RFC 4180, header first), every cell safe to open in a spreadsheet."""
    return to_csv(MANIFEST_FIELDS, ([row[field] for field in MANIFEST_FIELDS] for row in rows))
