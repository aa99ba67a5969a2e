"""A shipment's declaration, documents and the brokers' manifest, through the HTTP API.

A Chinese tea seller sells to a buyer in Kazakhstan; the items are in Chinese and Arabic as the
seller wrote them, the tea has an English translation. Documents are read back as text, the way
a broker's tool would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.orders import lifecycle
from tests.customs.factories import ARABIC, CHINESE
from tests.customs.pdf import pdf_text
from tests.factories import make_listing, rate_table, store_rates
from tests.helpers import Api, Caller, assert_problem

ENGLISH_TEA = "West Lake Longjing green tea"
FORMULA = '=HYPERLINK("http://evil.example","tea")'
# 1 EUR buys these. 300 SDR = 352.94 EUR = 2729.7 CNY: 21 teas at 128 CNY are under, 22 over.
RATES = rate_table({"CNY": "7.7341", "KZT": "512.3456", "XDR": "0.85"})
SHIP_TO = {
    "name": "Айгерим Сейткали",
    "line1": "ул. Достык 5",
    "city": "Алматы",
    "postal_code": "050010",
    "country": "KZ",
    "phone": "+7 727 123 4567",  # a CN 23 names the importer's telephone
}


@dataclass
class Trade:
    api: Api
    session: Session
    buyer: Caller
    owner: Caller
    seller: str
    broker: Caller
    brokerage: str
    other_owner: Caller
    other_broker: Caller
    tea: str
    dates: str
    formula: str

    def order(self, *lines: tuple[str, int], broker: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "currency": "KZT",
            "lines": [{"listing_id": listing, "quantity": quantity} for listing, quantity in lines],
            "ship_to": SHIP_TO,
            "incoterm": "DDP",
        }
        if broker:
            body["broker_id"] = self.brokerage
        response = self.api.post("/orders", json=body, as_=self.buyer)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def paid_shipment(self, *lines: tuple[str, int]) -> dict[str, Any]:
        order = self.order(*lines)
        lifecycle.mark_paid(self.session, order["id"], now=utcnow())
        self.session.flush()
        return order["shipments"][0]


def _listing(
    session: Session, seller: str, *, title: str, language: str, hs_code: str, price_minor: int
) -> str:
    return make_listing(
        session,
        seller,
        sku=f"SKU-{hs_code}-{price_minor}",
        language=language,
        title=title,
        price_minor=price_minor,
        currency="CNY",
        stock=100,
        weight_grams=300,
        hs_code=hs_code,
    )


@pytest.fixture
def trade(api: Api, session: Session) -> Trade:
    store_rates(session, RATES)
    buyer = api.user("Aigerim")
    owner = api.user("Li Wei")
    seller = api.seller(owner, tax_id="91330100MA2XXXXX1X", eori="CN123456789000")["id"]
    response = api.put(
        f"/sellers/{seller}/shipping-rates",
        json=[
            {
                "countries": ["*"],
                "base": {"amount": "50.00", "currency": "CNY"},
                "per_kg": {"amount": "20.00", "currency": "CNY"},
            }
        ],
        as_=owner,
    )
    assert response.status_code == 200, response.get_json()
    broker = api.user("Saule")
    brokerage = api.brokerage(broker)["id"]
    other_owner = api.user("Elif")
    api.seller(other_owner, name="Another Tea House")
    other_broker = api.user("Daniyar")
    api.brokerage(other_broker, name="Other Brokers")
    tea = _listing(
        session, seller, title=CHINESE, language="zh-Hans", hs_code="090210", price_minor=12_800
    )
    dates = _listing(
        session, seller, title=ARABIC, language="ar", hs_code="080410", price_minor=5_600
    )
    formula = _listing(
        session, seller, title=FORMULA, language="en", hs_code="570110", price_minor=9_900
    )
    response = api.put(
        f"/listings/{tea}/translations/en",
        json={"title": ENGLISH_TEA, "description": ""},
        as_=owner,
    )
    assert response.status_code in (200, 201), response.get_json()
    return Trade(
        api,
        session,
        buyer,
        owner,
        seller,
        broker,
        brokerage,
        other_owner,
        other_broker,
        tea,
        dates,
        formula,
    )


def _pdf(trade: Trade, shipment_id: str, kind: str, lang: str = "en", **query: Any) -> Any:
    response = trade.api.get(
        f"/shipments/{shipment_id}/documents/{kind}",
        query_string={"lang": lang, **query},
        as_=trade.buyer,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/pdf"
    return response


def test_the_declaration_is_the_shipment_as_sold_with_english_descriptions(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1), (trade.dates, 2))
    response = trade.api.get(f"/shipments/{shipment['id']}/customs", as_=trade.broker)
    assert response.status_code == 200, response.get_json()
    declaration = response.get_json()
    assert declaration["invoice_number"] == shipment["number"]
    assert declaration["form"] == "CN22"
    assert declaration["exporter"]["tax_id"] == "91330100MA2XXXXX1X"
    assert declaration["exporter"]["eori"] == "CN123456789000"
    assert declaration["importer"]["name"] == SHIP_TO["name"]
    assert declaration["importer"]["country"] == "KZ"
    assert declaration["reason"] == "sale"
    tea, dates = declaration["items"]
    assert (tea["description"], tea["description_original"]) == (ENGLISH_TEA, CHINESE)
    assert (dates["description"], dates["description_original"]) == (
        ARABIC,
        ARABIC,
    )  # no translation
    assert [tea["hs_code"], dates["hs_code"]] == ["090210", "080410"]
    assert dates["quantity"] == 2 and dates["net_weight_grams"] == 600
    assert declaration["total_value"] == shipment["goods"]
    assert declaration["duties"] == shipment["duties"] and declaration["taxes"] == shipment["taxes"]


def test_paid_documents_hold_the_invoice_number_hs_codes_totals_and_the_sellers_own_text(
    trade: Trade,
) -> None:
    shipment = trade.paid_shipment((trade.tea, 1), (trade.dates, 2))
    listed = trade.api.get(f"/shipments/{shipment['id']}/documents", as_=trade.owner)
    assert listed.status_code == 200, listed.get_json()
    documents = listed.get_json()
    assert {(d["kind"], d["language"], d["version"]) for d in documents} == {
        (kind, language, 1)
        for kind in ("commercial_invoice", "packing_list", "cn22")
        for language in ("en", "zh-Hans")
    }
    assert all(d["current"] and d["size"] > 1000 for d in documents)
    total = trade.api.get(f"/shipments/{shipment['id']}/customs", as_=trade.buyer).get_json()[
        "total_value"
    ]["amount"]
    for language in ("en", "zh-Hans"):
        text = pdf_text(_pdf(trade, shipment["id"], "commercial_invoice", language).data)
        assert shipment["number"] in text
        assert "090210" in text and "080410" in text
        assert total in text
        assert ENGLISH_TEA in text
        assert CHINESE in text
        assert ARABIC in text
    packing = pdf_text(_pdf(trade, shipment["id"], "packing_list").data)
    assert shipment["number"] in packing and "080410" in packing
    cn22 = pdf_text(_pdf(trade, shipment["id"], "cn22").data)
    assert "090210" in cn22 and total in cn22


def test_each_listed_href_downloads_the_document_with_that_checksum(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1))
    for document in trade.api.get(
        f"/shipments/{shipment['id']}/documents", as_=trade.buyer
    ).get_json():
        response = trade.api.get(document["href"], as_=trade.buyer)
        assert response.status_code == 200
        assert (
            hashlib.sha256(response.data).hexdigest()
            == document["sha256"]
            == response.headers["ETag"].strip('"')
        )


@pytest.mark.parametrize(("teas", "form"), [(21, "CN22"), (22, "CN23")])
def test_the_form_is_a_cn22_under_300_sdr_and_a_cn23_from_there(
    trade: Trade, teas: int, form: str
) -> None:
    shipment = trade.paid_shipment((trade.tea, teas))
    assert (
        trade.api.get(f"/shipments/{shipment['id']}/customs", as_=trade.buyer).get_json()["form"]
        == form
    )
    kinds = {
        d["kind"]
        for d in trade.api.get(f"/shipments/{shipment['id']}/documents", as_=trade.buyer).get_json()
    }
    assert kinds == {"commercial_invoice", "packing_list", form.lower()}
    other = "cn22" if form == "CN23" else "cn23"
    assert_problem(
        trade.api.get(f"/shipments/{shipment['id']}/documents/{other}", as_=trade.buyer),
        404,
        "document_not_found",
    )


def test_a_correction_issues_version_two_and_version_one_is_served_unchanged(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1), (trade.dates, 1))
    first = _pdf(trade, shipment["id"], "commercial_invoice", "zh-Hans")
    line = shipment_lines(trade, shipment["id"])[0]
    response = trade.api.patch(
        f"/shipments/{shipment['id']}/customs",
        json={
            "items": [
                {
                    "line_id": line,
                    "hs_code": "0902.20",
                    "description": "Longjing green tea, first flush",
                }
            ]
        },
        as_=trade.owner,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"][0]["hs_code"] == "090220"
    assert response.get_json()["items"][0]["description_original"] == CHINESE

    documents = trade.api.get(f"/shipments/{shipment['id']}/documents", as_=trade.broker).get_json()
    invoices = [
        d for d in documents if (d["kind"], d["language"]) == ("commercial_invoice", "zh-Hans")
    ]
    assert [(d["version"], d["current"]) for d in invoices] == [(1, False), (2, True)]
    old = _pdf(trade, shipment["id"], "commercial_invoice", "zh-Hans", version=1)
    assert old.data == first.data
    assert old.headers["ETag"] == first.headers["ETag"] == f'"{invoices[0]["sha256"]}"'
    new = _pdf(trade, shipment["id"], "commercial_invoice", "zh-Hans")
    assert new.headers["ETag"] == f'"{invoices[1]["sha256"]}"' != first.headers["ETag"]
    text = pdf_text(new.data)
    assert "090220" in text and "Longjing green tea, first flush" in text and CHINESE in text


def shipment_lines(trade: Trade, shipment_id: str) -> list[str]:
    shipment = trade.api.get(f"/shipments/{shipment_id}", as_=trade.owner).get_json()
    return [line["id"] for line in shipment["lines"]]


def test_only_the_seller_corrects_and_only_before_dispatch(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1))
    line = shipment_lines(trade, shipment["id"])[0]
    path = f"/shipments/{shipment['id']}/customs"
    body = {"items": [{"line_id": line, "hs_code": "090220"}]}
    assert_problem(trade.api.patch(path, json=body, as_=trade.buyer), 403, "correction_forbidden")
    assert_problem(trade.api.patch(path, json=body, as_=trade.broker), 403, "correction_forbidden")
    assert_problem(trade.api.patch(path, json=body, as_=trade.other_owner), 404)
    assert_problem(
        trade.api.patch(
            path, json={"items": [{"line_id": line, "hs_code": "010199"}]}, as_=trade.owner
        ),
        422,
        "invalid",
    )
    assert_problem(
        trade.api.patch(
            path, json={"items": [{"line_id": "nope", "hs_code": "090220"}]}, as_=trade.owner
        ),
        422,
    )
    assert_problem(
        trade.api.patch(
            path, json={"items": [{"line_id": line, "colour": "red"}]}, as_=trade.owner
        ),
        422,
    )
    assert (
        trade.api.get(path, as_=trade.owner).get_json()["items"][0]["hs_code"] == "090210"
    )  # unchanged
    dispatched = trade.api.post(
        f"/shipments/{shipment['id']}/dispatch",
        json={"carrier": "KazPost", "tracking_number": "RR1"},
        as_=trade.owner,
    )
    assert dispatched.status_code == 200, dispatched.get_json()
    assert_problem(trade.api.patch(path, json=body, as_=trade.owner), 409, "declaration_locked")


def test_documents_of_an_unpaid_shipment_are_a_409(trade: Trade) -> None:
    shipment = trade.order((trade.tea, 1))["shipments"][0]
    for path in ("documents", "documents/commercial_invoice", "documents.zip"):
        assert_problem(
            trade.api.get(f"/shipments/{shipment['id']}/{path}", as_=trade.buyer),
            409,
            "shipment_not_paid",
        )
    assert trade.api.get(f"/shipments/{shipment['id']}/customs", as_=trade.buyer).status_code == 200


def test_outsiders_get_a_404_for_every_declaration_document_and_manifest(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1))
    paths = [
        f"/shipments/{shipment['id']}/customs",
        f"/shipments/{shipment['id']}/documents",
        f"/shipments/{shipment['id']}/documents/commercial_invoice",
        f"/shipments/{shipment['id']}/documents/cn22?lang=zh-Hans&version=1",
        f"/shipments/{shipment['id']}/documents.zip",
        f"/brokerages/{trade.brokerage}/manifest",
        f"/brokerages/{trade.brokerage}/manifest?format=csv",
    ]
    assert (
        trade.api.get(paths[1], as_=trade.broker).status_code == 200
    )  # the designated broker reads
    for caller in (trade.other_broker, trade.other_owner, None):
        for path in paths:
            assert_problem(trade.api.get(path, as_=caller), 404)


def test_a_kind_language_version_or_shipment_that_does_not_exist_is_a_404(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1))
    base = f"/shipments/{shipment['id']}/documents"
    for path in (
        f"{base}/passport",
        f"{base}/..%2F..%2Fetc%2Fpasswd",
        f"{base}/cn23",
        f"{base}/cn22?lang=ar",
        f"{base}/cn22?lang=..%2Fsecret",
        f"{base}/cn22?version=2",
        "/shipments/nope/documents/cn22",
        "/shipments/nope/documents",
        "/shipments/nope/customs",
        "/shipments/nope/documents.zip",
        "/brokerages/nope/manifest",
    ):
        response = trade.api.get(path, as_=trade.buyer)
        assert response.status_code == 404, (path, response.status_code)
    assert_problem(trade.api.get(f"{base}/cn22?version=zero", as_=trade.buyer), 422)


def test_a_download_answers_its_etag_with_a_304(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1))
    first = _pdf(trade, shipment["id"], "cn22")
    again = trade.api.get(
        f"/shipments/{shipment['id']}/documents/cn22",
        headers={"If-None-Match": first.headers["ETag"]},
        as_=trade.buyer,
    )
    assert again.status_code == 304
    assert again.data == b""
    assert "private" in again.headers["Cache-Control"]


def test_the_zip_holds_every_current_document_and_its_checksums(trade: Trade) -> None:
    shipment = trade.paid_shipment((trade.tea, 1))
    response = trade.api.get(f"/shipments/{shipment['id']}/documents.zip", as_=trade.broker)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    sums = dict(
        reversed(line.split("  ")) for line in archive.read("SHA256SUMS").decode().splitlines()
    )
    assert len(sums) == 6
    for name, digest in sums.items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest


def test_the_manifest_lists_every_item_of_the_brokerages_shipments_as_json_and_csv(
    trade: Trade,
) -> None:
    first = trade.paid_shipment((trade.tea, 1), (trade.formula, 1))
    second = trade.paid_shipment((trade.dates, 3))
    trade.order((trade.tea, 1))  # unpaid: not in the manifest
    response = trade.api.get(f"/brokerages/{trade.brokerage}/manifest", as_=trade.broker)
    assert response.status_code == 200, response.get_json()
    rows = response.get_json()["items"]
    assert [(row["invoice_number"], row["line"]) for row in rows] == [
        (first["number"], 1),
        (first["number"], 2),
        (second["number"], 1),
    ]
    assert rows[1]["description"] == FORMULA and rows[2]["quantity"] == 3

    response = trade.api.get(
        f"/brokerages/{trade.brokerage}/manifest", query_string={"format": "csv"}, as_=trade.broker
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(table) == 3
    assert table[1]["description"] == "'" + FORMULA
    assert table[2]["description_original"] == ARABIC
    assert_problem(
        trade.api.get(
            f"/brokerages/{trade.brokerage}/manifest",
            query_string={"format": "xls"},
            as_=trade.broker,
        ),
        422,
    )
    assert_problem(
        trade.api.get(
            f"/brokerages/{trade.brokerage}/manifest",
            query_string={"from": "2026-01-01", "to": "2026-12-31"},
            as_=trade.broker,
        ),
        422,
    )


def test_without_an_sdr_rate_the_documents_wait_for_an_operator_to_load_one(trade: Trade) -> None:
    store_rates(
        trade.session,
        rate_table({code: rate for code, rate in RATES.rates.items() if code != "XDR"}),
    )
    shipment = trade.paid_shipment((trade.tea, 1))
    assert_problem(
        trade.api.get(f"/shipments/{shipment['id']}/documents", as_=trade.buyer),
        409,
        "sdr_rate_missing",
    )
    store_rates(trade.session, RATES)
    assert (
        trade.api.get(f"/shipments/{shipment['id']}/customs", as_=trade.buyer).get_json()["form"]
        == "CN22"
    )


SEMICOLON_FORMULA = "Tea;=cmd|' /C calc'!A0;"


def test_a_formula_after_a_semicolon_cannot_run_when_the_manifest_is_split_on_semicolons(
    trade: Trade,
) -> None:
    sneaky = _listing(
        trade.session,
        trade.seller,
        title=SEMICOLON_FORMULA,
        language="en",
        hs_code="090230",
        price_minor=9_900,
    )
    trade.paid_shipment((sneaky, 1))
    response = trade.api.get(
        f"/brokerages/{trade.brokerage}/manifest", query_string={"format": "csv"}, as_=trade.broker
    )
    text = response.get_data(as_text=True)
    lines = text.splitlines()
    # Every cell is quoted, header included.
    for line in lines:
        assert line.startswith('"') and line.endswith('"'), line
    # Read as Excel does in ru, kk, tr or de (split on ";", quotes ignored): no cell is a formula.
    for line in lines:
        for cell in line.split(";"):
            assert not cell.strip().strip('"').lstrip().startswith(("=", "+", "-", "@")), cell
    # Read as CSV, the text is still all there.
    table = list(csv.DictReader(io.StringIO(text)))
    assert table[0]["description"] == "Tea;'=cmd|' /C calc'!A0;"
