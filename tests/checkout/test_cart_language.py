"""A cart speaks the buyer's language: its problems and its parcels' customs explanations come in
the request's locale (Accept-Language second choices honoured), as `GET /landed-cost` does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import ADDRESS, Market


def _cart(market: Market, headers: dict[str, str]) -> dict[str, Any]:
    """A guest's cart of tea and carpet to KZ, DDP, without the email a guest checkout needs."""
    cart = market.api.post(
        "/carts", json={"currency": "KZT", "incoterm": "DDP", "ship_to": ADDRESS}
    ).get_json()
    for listing in (market.tea, market.carpet):
        response = market.api.post(
            f"/carts/{cart['id']}/lines", json={"listing_id": listing, "quantity": 1}
        )
        assert response.status_code == 201, response.get_json()
    response = market.api.get(f"/carts/{cart['id']}", headers=headers)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _quote(market: Market, headers: dict[str, str]) -> dict[str, Any]:
    response = market.api.get(
        f"/landed-cost?to=KZ&currency=KZT&incoterm=DDP&lines={market.tea}:1,{market.carpet}:1",
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


@pytest.mark.parametrize(
    ("accept_language", "locale"),
    [("de, ru;q=0.8, en;q=0.1", "ru"), ("zh-Hans", "zh-Hans"), ("pt-BR, zh-CN;q=0.5", "zh-Hans")],
)
def test_a_cart_explains_itself_in_the_request_locale(
    market: Market, accept_language: str, locale: str
) -> None:
    english = _cart(market, {"Accept-Language": "en"})
    cart = _cart(market, {"Accept-Language": accept_language})
    quote = _quote(market, {"Accept-Language": accept_language})
    assert quote["locale"] == locale
    # The same parcels, explained in the same words as the quote's, not in English.
    assert [s["explanations"] for s in cart["shipments"]] == [
        [{"code": note["code"], "text": note["text"]} for note in shipment["explanations"]]
        for shipment in quote["shipments"]
    ]
    notes = [note for s in cart["shipments"] for note in s["explanations"]]
    english_notes = [note for s in english["shipments"] for note in s["explanations"]]
    assert notes and [n["code"] for n in notes] == [n["code"] for n in english_notes]
    assert all(n["text"] != e["text"] for n, e in zip(notes, english_notes, strict=True))
    # The problem that stops it (a guest without an email) too.
    [problem] = cart["problems"]
    [english_problem] = english["problems"]
    assert problem["code"] == english_problem["code"] == "email_missing"
    assert problem["detail"] != english_problem["detail"]
    script = "Cyrillic" if locale == "ru" else "CJK"
    assert any(_is_script(char, script) for char in problem["detail"])


def _is_script(char: str, script: str) -> bool:
    if script == "Cyrillic":
        return "\u0400" <= char <= "\u04ff"
    return "\u4e00" <= char <= "\u9fff"
