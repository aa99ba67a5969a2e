"""Paperwork only where a border is crossed, through the HTTP API, on both databases.

A Kazakh seller ships to Almaty (domestic), a Russian seller ships to Kazakhstan (inside the
EAEU) and a German seller to France (inside the EU): no customs declaration form, no CN 22 or
CN 23, no import charges; the commercial invoice is still there, as a sales invoice. Across a
border the seller's postal service class decides the form: parcel post takes a CN 23 whatever the
value, letter post a CN 22 below 300 SDR, courier none.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.customs.factories import paid_order, sell_one
from tests.customs.pdf import pdf_text
from tests.factories import PAPERWORK_RATES, store_rates
from tests.helpers import Api, Caller

# A CN 23 names the importer's telephone: an order whose parcel needs one is refused without it.
ALMATY = {
    "name": "Aigerim",
    "line1": "Dostyk 5",
    "city": "Almaty",
    "country": "KZ",
    "phone": "+7 727 123 4567",
}
PARIS = {"name": "Camille", "line1": "1 rue de Rivoli", "city": "Paris", "country": "FR"}


@pytest.fixture
def market(api: Api, session: Session) -> dict[str, Any]:
    store_rates(session, PAPERWORK_RATES)
    return {"buyer": api.user("Buyer")}


def _seller(
    api: Api, session: Session, country: str, currency: str, service_class: str | None = None
) -> str:
    price = 10_000 if currency != "KZT" else 5_000_000  # 100.00 (50,000 KZT)
    return sell_one(api, session, country, currency, price, service_class)


def _paid_shipment(
    api: Api, session: Session, buyer: Caller, listing: str, ship_to: dict[str, str]
) -> dict[str, Any]:
    return paid_order(api, session, buyer, listing, ship_to)["shipments"][0]


def _kinds(api: Api, shipment_id: str, caller: Caller) -> set[str]:
    response = api.get(f"/shipments/{shipment_id}/documents", as_=caller)
    assert response.status_code == 200, response.get_json()
    return {document["kind"] for document in response.get_json() if document["current"]}


@pytest.mark.parametrize(
    ("origin", "currency", "ship_to"),
    [("KZ", "KZT", ALMATY), ("RU", "RUB", ALMATY), ("DE", "EUR", PARIS)],
    ids=["kz_to_kz_domestic", "ru_to_kz_inside_the_eaeu", "de_to_fr_inside_the_eu"],
)
def test_no_declaration_form_or_import_charges_inside_one_customs_territory(
    api: Api,
    session: Session,
    market: dict[str, Any],
    origin: str,
    currency: str,
    ship_to: dict[str, str],
) -> None:
    buyer = market["buyer"]
    listing = _seller(api, session, origin, currency)
    shipment = _paid_shipment(api, session, buyer, listing, ship_to)
    assert shipment["duties"]["amount"] == "0.00" and shipment["taxes"]["amount"] == "0.00"

    declaration = api.get(f"/shipments/{shipment['id']}/customs", as_=buyer).get_json()
    assert declaration["crosses_border"] is False and declaration["form"] is None
    assert declaration["duties"]["amount"] == "0.00"

    assert _kinds(api, shipment["id"], buyer) == {"commercial_invoice", "packing_list"}
    for kind in ("cn22", "cn23"):
        response = api.get(f"/shipments/{shipment['id']}/documents/{kind}", as_=buyer)
        assert response.status_code == 404, (kind, response.get_json())
    invoice = api.get(f"/shipments/{shipment['id']}/documents/commercial_invoice", as_=buyer)
    assert invoice.status_code == 200
    text = pdf_text(invoice.data)
    # A sales invoice: titled so, with no duties, taxes or de minimis lines.
    assert "Invoice" in text and "Commercial invoice" not in text
    assert "Import duties" not in text and shipment["number"] in text


def test_parcel_post_takes_a_cn23_whatever_its_value(
    api: Api, session: Session, market: dict[str, Any]
) -> None:
    # 100 CNY of carpet is far below 300 SDR, yet parcel post travels with a CN 23.
    listing = _seller(api, session, "CN", "CNY", "parcel_post")
    shipment = _paid_shipment(api, session, market["buyer"], listing, ALMATY)
    declaration = api.get(f"/shipments/{shipment['id']}/customs", as_=market["buyer"]).get_json()
    assert (declaration["service_class"], declaration["form"]) == ("parcel_post", "CN23")
    assert declaration["crosses_border"] is True
    assert _kinds(api, shipment["id"], market["buyer"]) == {
        "commercial_invoice",
        "packing_list",
        "cn23",
    }


def test_letter_post_under_300_sdr_takes_a_cn22_and_courier_takes_no_cn_form(
    api: Api, session: Session, market: dict[str, Any]
) -> None:
    letter = _seller(api, session, "CN", "CNY", "letter_post")
    courier = _seller(api, session, "CN", "CNY", "courier")
    buyer = market["buyer"]
    by_letter = _paid_shipment(api, session, buyer, letter, ALMATY)
    by_courier = _paid_shipment(api, session, buyer, courier, ALMATY)
    assert api.get(f"/shipments/{by_letter['id']}/customs", as_=buyer).get_json()["form"] == "CN22"
    assert "cn22" in _kinds(api, by_letter["id"], buyer)
    declaration = api.get(f"/shipments/{by_courier['id']}/customs", as_=buyer).get_json()
    assert (declaration["form"], declaration["crosses_border"]) == (None, True)
    assert _kinds(api, by_courier["id"], buyer) == {"commercial_invoice", "packing_list"}
    # Across a border the invoice is a commercial one and states the import charges.
    text = pdf_text(
        api.get(f"/shipments/{by_courier['id']}/documents/commercial_invoice", as_=buyer).data
    )
    assert "Commercial invoice" in text and "Import duties" in text


def test_the_cn_forms_show_the_upu_boxes_and_fields(
    api: Api, session: Session, market: dict[str, Any]
) -> None:
    listing = _seller(api, session, "CN", "CNY", "parcel_post")
    buyer = market["buyer"]
    shipment = _paid_shipment(api, session, buyer, listing, ALMATY)
    text = pdf_text(api.get(f"/shipments/{shipment['id']}/documents/cn23", as_=buyer).data)
    assert "[X] Sale of goods" in text
    for unticked in ("Gift", "Documents", "Commercial sample", "Returned goods", "Other"):
        assert f"[ ] {unticked}" in text
    for field in (
        "Importer's reference",
        "Telephone",
        "Email",
        "Licence No(s).",
        "Certificate No(s).",
        "Office of origin",
        "Date of posting",
    ):
        assert field in text
    # The importer's email (the buyer's, the address has none) and the invoice number are filled.
    assert buyer.email in text and shipment["number"] in text
