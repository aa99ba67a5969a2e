"""Translations per BCP 47 locale, and the fallback chain readers get."""

from __future__ import annotations

from marketplace.catalogue.locales import canonical, fallback_chain
from tests.factories import Shop
from tests.helpers import Api, assert_problem


def test_fallback_chain_goes_from_specific_to_general_and_tries_the_likely_script() -> None:
    assert fallback_chain("zh-Hant-TW") == ("zh-Hant-TW", "zh-Hant", "zh")
    assert fallback_chain("zh-TW") == ("zh-TW", "zh-Hant-TW", "zh-Hant", "zh")
    assert fallback_chain("zh") == ("zh", "zh-Hans")
    assert canonical("ZH-hant-tw") == "zh-Hant-TW"


def test_seller_puts_lists_and_deletes_translations(api: Api, shop: Shop) -> None:
    listing = shop.listing()
    shop.translate(listing["id"], "ru", "Зелёный чай Лунцзин", "Весенний сбор")
    shop.translate(listing["id"], "en", "Longjing green tea")
    shop.translate(listing["id"], "en", "West Lake Longjing green tea")
    shop.translate(listing["id"], "zh-hant-tw", "西湖龍井綠茶")
    listed = api.get(f"/listings/{listing['id']}/translations", as_=shop.owner).get_json()
    assert [(t["locale"], t["title"]) for t in listed] == [
        ("en", "West Lake Longjing green tea"),
        ("ru", "Зелёный чай Лунцзин"),
        ("zh-Hant-TW", "西湖龍井綠茶"),
    ]
    assert (
        api.delete(f"/listings/{listing['id']}/translations/ru", as_=shop.owner).status_code == 204
    )
    assert_problem(api.delete(f"/listings/{listing['id']}/translations/ru", as_=shop.owner), 404)
    assert len(api.get(f"/listings/{listing['id']}/translations", as_=shop.owner).get_json()) == 2


def test_bad_translations_are_refused(api: Api, shop: Shop, other_shop: Shop) -> None:
    listing = shop.listing(language="zh-Hans")
    url = f"/listings/{listing['id']}/translations"
    assert_problem(
        api.put(f"{url}/zh-Hans", json={"title": "x"}, as_=shop.owner),
        422,
        "translation_is_original",
    )
    assert_problem(
        api.put(f"{url}/not_a_tag!", json={"title": "x"}, as_=shop.owner), 422, "language_invalid"
    )
    assert_problem(api.put(f"{url}/ru", json={"title": ""}, as_=shop.owner), 422)
    assert_problem(api.put(f"{url}/ru", json={"title": "x", "extra": 1}, as_=shop.owner), 422)
    assert_problem(api.put(f"{url}/ru", json={"title": "x"}, as_=other_shop.owner), 404)
    assert api.get(url, as_=shop.owner).get_json() == []


def test_reader_gets_the_most_specific_translation_and_is_told_which(api: Api, shop: Shop) -> None:
    listing = shop.listing(language="en", title="Silk scarf", description="Hand-woven")
    shop.translate(listing["id"], "zh", "丝巾")
    shop.translate(listing["id"], "zh-Hant", "絲巾")
    shop.translate(listing["id"], "ru", "Шёлковый шарф")

    def read(locale: str) -> tuple[str, str, bool]:
        item = api.get(f"/catalogue/{listing['id']}", query_string={"locale": locale}).get_json()
        return item["title"], item["locale"], item["translated"]

    assert read("zh-Hant-TW") == ("絲巾", "zh-Hant", True)
    assert read("zh-TW") == ("絲巾", "zh-Hant", True)
    assert read("zh-Hans-CN") == ("丝巾", "zh", True)
    assert read("ru-RU") == ("Шёлковый шарф", "ru", True)
    assert read("kk") == ("Silk scarf", "en", False)
    assert read("en-GB") == ("Silk scarf", "en", False)


def test_the_listing_language_wins_over_a_less_specific_translation(api: Api, shop: Shop) -> None:
    listing = shop.listing(language="zh-Hant", title="絲巾")
    shop.translate(listing["id"], "zh", "丝巾")
    item = api.get(f"/catalogue/{listing['id']}", query_string={"locale": "zh-Hant-TW"}).get_json()
    assert (item["title"], item["locale"], item["translated"]) == ("絲巾", "zh-Hant", False)


def test_accept_language_chooses_the_text_when_no_locale_is_given(api: Api, shop: Shop) -> None:
    listing = shop.listing(language="en", title="Felt slippers")
    shop.translate(listing["id"], "kk", "Киіз шәркей")
    response = api.get(
        f"/catalogue/{listing['id']}", headers={"Accept-Language": "kk-KZ, ru;q=0.5"}
    )
    assert response.get_json()["title"] == "Киіз шәркей"
    assert response.headers["Content-Language"] == "kk"
