"""A shipment's customs declaration as data, and the choice between the CN 22 and CN 23 forms.

The declaration is what every customs document of a shipment is rendered from and what brokers
read (`GET /shipments/{id}/customs`); it is frozen so that a rendered document and the data it came
from cannot drift apart. The UPU value line between the two forms is data (data/upu/), not code.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from marketplace.money import Money, RateTable

Form = Literal["CN22", "CN23"]
FORMS_FILE = Path(__file__).resolve().parent / "data" / "upu" / "customs-forms.json"


@dataclass(frozen=True)
class FormThreshold:
    """Contents worth less than `below` travel with a CN 22, the rest with a CN 23."""

    below: Money
    edition: str


@functools.cache
def upu_threshold() -> FormThreshold:
    """The shipped UPU line (300 SDR), read from its data file."""
    data = json.loads(FORMS_FILE.read_text(encoding="utf-8"))
    return FormThreshold(
        below=Money.of(data["cn22_below"], data["currency"]), edition=data["edition"]
    )


def choose_form(
    contents_value: Money, rates: RateTable, threshold: FormThreshold | None = None
) -> Form:
    """CN22 when the contents are worth less than the threshold (converted with `rates`), else CN23.

    The comparison is exact: rounding to SDR cents first would send 299.996 SDR to the CN 23 side.
    """
    line = threshold or upu_threshold()
    value = contents_value.amount * rates.cross_rate(contents_value.currency, line.below.currency)
    return "CN22" if value < line.below.amount else "CN23"


@dataclass(frozen=True)
class Exporter:
    name: str
    address: Mapping[str, str]
    country: str
    tax_id: str | None = None
    eori: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "address": dict(self.address),
            "country": self.country,
            "tax_id": self.tax_id,
            "eori": self.eori,
        }


@dataclass(frozen=True)
class Importer:
    name: str
    address: Mapping[str, str]
    country: str

    def to_api(self) -> dict[str, Any]:
        return {"name": self.name, "address": dict(self.address), "country": self.country}


def address_lines(address: Mapping[str, str]) -> list[str]:
    """An address as printed: street lines, postal code and city, region, country code."""
    city = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    lines = [
        address.get("line1"),
        address.get("line2"),
        city,
        address.get("region"),
        address.get("country"),
    ]
    return [line for line in lines if line]


@dataclass(frozen=True)
class DeclarationItem:
    """One line: `description` in English for customs, `description_original` as the seller wrote it.

    As sold (orders), both descriptions are the seller's; `line_id` and `listing_id` say which
    order line and listing it was, so corrections and English titles can be laid over it.
    """

    description: str
    description_original: str
    hs_code: str
    origin_country: str
    quantity: int
    net_weight_grams: int
    unit_value: Money
    total_value: Money
    line_id: str | None = None
    listing_id: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "description_original": self.description_original,
            "hs_code": self.hs_code,
            "origin_country": self.origin_country,
            "quantity": self.quantity,
            "net_weight_grams": self.net_weight_grams,
            "unit_value": self.unit_value.to_api(),
            "total_value": self.total_value.to_api(),
        }


@dataclass(frozen=True)
class Declaration:
    """Everything customs needs about one shipment; `total_value` is the contents (sum of items)."""

    form: Form
    invoice_number: str
    invoice_date: dt.date
    exporter: Exporter
    importer: Importer
    incoterm: str
    currency: str
    reason: str
    items: tuple[DeclarationItem, ...]
    shipping: Money
    insurance: Money
    total_value: Money
    gross_weight_grams: int
    duties: Money
    taxes: Money
    de_minimis: bool

    @property
    def invoice_total(self) -> Money:
        """What the commercial invoice totals: contents, shipping and insurance."""
        return self.total_value + self.shipping + self.insurance

    @property
    def net_weight_grams(self) -> int:
        return sum(item.net_weight_grams for item in self.items)

    def to_api(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "invoice_number": self.invoice_number,
            "invoice_date": self.invoice_date.isoformat(),
            "exporter": self.exporter.to_api(),
            "importer": self.importer.to_api(),
            "incoterm": self.incoterm,
            "currency": self.currency,
            "reason": self.reason,
            "items": [item.to_api() for item in self.items],
            "shipping": self.shipping.to_api(),
            "insurance": self.insurance.to_api(),
            "total_value": self.total_value.to_api(),
            "gross_weight_grams": self.gross_weight_grams,
            "duties": self.duties.to_api(),
            "taxes": self.taxes.to_api(),
            "de_minimis": self.de_minimis,
        }


def build_declaration(
    *,
    invoice_number: str,
    invoice_date: dt.date,
    exporter: Exporter,
    importer: Importer,
    incoterm: str,
    currency: str,
    items: list[DeclarationItem] | tuple[DeclarationItem, ...],
    shipping: Money,
    insurance: Money,
    packaging_grams: int,
    duties: Money,
    taxes: Money,
    de_minimis: bool,
    rates: RateTable,
    threshold: FormThreshold | None = None,
) -> Declaration:
    """A declaration with its derived fields computed once: total value, gross weight and form."""
    lines = tuple(items)
    total = sum((item.total_value for item in lines), Money(Decimal(0), currency)).quantize()
    return Declaration(
        form=choose_form(total, rates, threshold),
        invoice_number=invoice_number,
        invoice_date=invoice_date,
        exporter=exporter,
        importer=importer,
        incoterm=incoterm,
        currency=currency,
        reason="sale",
        items=lines,
        shipping=shipping,
        insurance=insurance,
        total_value=total,
        gross_weight_grams=sum(item.net_weight_grams for item in lines) + packaging_grams,
        duties=duties,
        taxes=taxes,
        de_minimis=de_minimis,
    )
