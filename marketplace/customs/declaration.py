"""A shipment's customs declaration as data, and the choice between the CN 22 and CN 23 forms.

The declaration is what every customs document of a shipment is rendered from and what brokers
read (`GET /shipments/{id}/customs`); it is frozen so that a rendered document and the data it came
from cannot drift apart. The UPU value line between the two forms is data (data/upu/), not code.

Paperwork only where a border is crossed: a shipment inside one customs territory (KZ to KZ, DE to
FR, RU to KZ) has no customs form and no import charges, and its commercial invoice is a plain
sales invoice. Across a border the postal service class decides: parcel post always travels with
a CN 23, letter post with a CN 22 below 300 SDR and a CN 23 from it, and courier items with the
courier's own waybill (no CN form), as the UPU Convention's regulations have it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from marketplace.money import Money, RateTable

Form = Literal["CN22", "CN23"]


class ServiceClass(StrEnum):
    """How the seller's shipping rate sends the parcel: the postal class decides the customs form."""

    LETTER_POST = "letter_post"
    PARCEL_POST = "parcel_post"
    COURIER = "courier"


class Category(StrEnum):
    """The UPU form's category of item boxes; marketplace shipments are sales."""

    GIFT = "gift"
    DOCUMENTS = "documents"
    COMMERCIAL_SAMPLE = "commercial_sample"
    RETURNED_GOODS = "returned_goods"
    SALE_OF_GOODS = "sale_of_goods"
    OTHER = "other"


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


def form_for(
    service_class: ServiceClass,
    contents_value: Money,
    rates: RateTable | None,
    threshold: FormThreshold | None = None,
) -> Form | None:
    """The form a border-crossing item needs: CN 23 for parcel post, none for courier, and for
    letter post the one its value calls for (only then are SDR `rates` needed)."""
    if service_class is ServiceClass.PARCEL_POST:
        return "CN23"
    if service_class is ServiceClass.COURIER:
        return None
    if rates is None:
        raise ValueError("letter post needs SDR rates to choose between CN 22 and CN 23")
    return choose_form(contents_value, rates, threshold)


@dataclass(frozen=True)
class Exporter:
    name: str
    address: Mapping[str, str]
    country: str
    tax_id: str | None = None
    eori: str | None = None


@dataclass(frozen=True)
class Importer:
    """The addressee; the CN 23 names their reference (tax or importer code), telephone and email."""

    name: str
    address: Mapping[str, str]
    country: str
    reference: str | None = None
    phone: str | None = None
    email: str | None = None


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


@dataclass(frozen=True)
class Declaration:
    """Everything customs needs about one shipment; `total_value` is the contents (sum of items).

    `form` is None where no CN form travels: inside one customs territory (`crosses_border`
    false) or by courier. The UPU fields the seller fills in at the counter (licence and
    certificate numbers, office of origin, date of posting) are empty until known.
    """

    form: Form | None
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
    service_class: ServiceClass = ServiceClass.LETTER_POST
    crosses_border: bool = True
    category: Category = Category.SALE_OF_GOODS
    licence_numbers: tuple[str, ...] = ()
    certificate_numbers: tuple[str, ...] = ()
    office_of_origin: str | None = None
    posting_date: dt.date | None = None

    @property
    def invoice_total(self) -> Money:
        """What the commercial invoice totals: contents, shipping and insurance."""
        return self.total_value + self.shipping + self.insurance

    @property
    def net_weight_grams(self) -> int:
        return sum(item.net_weight_grams for item in self.items)


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
    rates: RateTable | None,
    threshold: FormThreshold | None = None,
    service_class: ServiceClass = ServiceClass.LETTER_POST,
    crosses_border: bool = True,
    posting_date: dt.date | None = None,
) -> Declaration:
    """A declaration with its derived fields computed once: total value, gross weight and form.

    `rates` (with an SDR rate) are only read for letter post across a border.
    """
    lines = tuple(items)
    total = Money.total((item.total_value for item in lines), currency).quantize()
    return Declaration(
        form=form_for(service_class, total, rates, threshold) if crosses_border else None,
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
        service_class=service_class,
        crosses_border=crosses_border,
        posting_date=posting_date,
    )
