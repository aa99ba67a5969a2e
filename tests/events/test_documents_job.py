"""A paid shipment's documents are issued by the job, so the broker's download only reads bytes."""

from __future__ import annotations

import hashlib

import pytest

from marketplace.customs.documents import store
from tests.factories import Market, make_operator


@pytest.mark.usefixtures("sdr_rate")
def test_after_payment_the_documents_exist_and_a_download_renders_nothing(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = market.placed((market.tea, 1))
    shipment = order["shipments"][0]["id"]
    operator = market.api.user("Operator")
    make_operator(market.session, operator)
    started = market.api.post(
        f"/orders/{order['id']}/payments", json={"gateway": "manual"}, as_=market.buyer
    )
    market.api.post(f"/payments/{started.get_json()['id']}/capture", as_=operator)

    def no_rendering(*_args: object) -> bytes:
        raise AssertionError("a download rendered a document")

    # Rendering is replaced by a tripwire: from here on the stored bytes must be enough.
    monkeypatch.setattr(store, "render", no_rendering)
    listed = market.api.get(f"/shipments/{shipment}/documents", as_=market.tea_owner)
    assert listed.status_code == 200, listed.get_json()
    kinds = {(d["kind"], d["language"]) for d in listed.get_json()}
    assert ("commercial_invoice", "en") in kinds and ("commercial_invoice", "zh-Hans") in kinds
    pdf = market.api.get(
        f"/shipments/{shipment}/documents/commercial_invoice?lang=en", as_=market.tea_owner
    )
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["ETag"].strip('"') == hashlib.sha256(pdf.data).hexdigest()
