"""The buyer's language after the catalogue: order lines keep the title the buyer read, and every
Accept-Language choice is tried (`kk, ru;q=0.8`: Russian before the seller's own language)."""

from __future__ import annotations

from typing import Any

from tests.factories import Market

KAZAKH_THEN_RUSSIAN = {"Accept-Language": "kk, ru;q=0.8"}


def _translate(market: Market, locale: str, title: str) -> None:
    response = market.api.put(
        f"/listings/{market.tea}/translations/{locale}",
        json={"title": title, "description": ""},
        as_=market.tea_owner,
    )
    assert response.status_code in (200, 201), response.get_json()


def _tea_line(order: dict[str, Any], market: Market) -> dict[str, Any]:
    return next(line for line in order["lines"] if line["listing_id"] == market.tea)


def test_the_catalogue_serves_a_second_choice_before_the_sellers_language(market: Market) -> None:
    _translate(market, "ru", "Чай Лунцзин")
    detail = market.api.get(f"/catalogue/{market.tea}", headers=KAZAKH_THEN_RUSSIAN).get_json()
    assert (detail["title"], detail["locale"], detail["translated"]) == ("Чай Лунцзин", "ru", True)
    page = market.api.get("/catalogue", headers=KAZAKH_THEN_RUSSIAN).get_json()
    titles = {item["id"]: (item["title"], item["locale"]) for item in page["items"]}
    assert titles[market.tea] == ("Чай Лунцзин", "ru")
    assert titles[market.carpet] == ("Hereke silk carpet", "en")  # no translation: the seller's
    _translate(market, "kk", "Лунцзин шайы")
    detail = market.api.get(f"/catalogue/{market.tea}", headers=KAZAKH_THEN_RUSSIAN).get_json()
    assert (detail["title"], detail["locale"]) == ("Лунцзин шайы", "kk")
    # ?locale= still wins over every Accept-Language choice.
    only_turkish = market.api.get(
        f"/catalogue/{market.tea}", query_string={"locale": "tr"}, headers=KAZAKH_THEN_RUSSIAN
    ).get_json()
    assert (only_turkish["title"], only_turkish["locale"]) == ("Longjing green tea", "en")


def test_order_lines_keep_the_title_in_the_buyers_language_beside_the_sellers(
    market: Market,
) -> None:
    _translate(market, "ru", "Чай Лунцзин")
    order = market.api.post(
        "/orders",
        json={
            "currency": "KZT",
            "lines": [
                {"listing_id": market.tea, "quantity": 1},
                {"listing_id": market.carpet, "quantity": 1},
            ],
            "ship_to": {"line1": "12 Abay Avenue", "city": "Almaty", "country": "KZ"},
            "incoterm": "DDP",
        },
        headers=KAZAKH_THEN_RUSSIAN,
        as_=market.buyer,
    ).get_json()
    tea = _tea_line(order, market)
    assert (tea["title"], tea["title_locale"]) == ("Чай Лунцзин", "ru")
    assert (tea["seller_title"], tea["seller_language"]) == ("Longjing green tea", "en")
    carpet = next(line for line in order["lines"] if line["listing_id"] == market.carpet)
    assert (carpet["title"], carpet["title_locale"]) == ("Hereke silk carpet", "en")

    # The title is the one the buyer read at order time: a later translation changes nothing.
    _translate(market, "ru", "Другой чай")
    again = market.api.get(f"/orders/{order['id']}", as_=market.buyer).get_json()
    assert _tea_line(again, market)["title"] == "Чай Лунцзин"
    # The seller reads the same line with their own title beside it.
    seen_by_seller = market.api.get(f"/orders/{order['id']}", as_=market.tea_owner).get_json()
    assert _tea_line(seen_by_seller, market)["seller_title"] == "Longjing green tea"
