"""Language-aware search: inflections, typos, unspaced scripts, relevance, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from marketplace.catalogue import browse
from marketplace.catalogue.search import query as search_query
from marketplace.catalogue.search.models import Posting
from marketplace.money import RateTable
from tests.factories import Shop
from tests.helpers import Api


def page(api: Api, q: str, **extra: Any) -> dict[str, Any]:
    response = api.get("/catalogue", query_string={"q": q, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def search(api: Api, q: str, **extra: Any) -> list[str]:
    return [item["title"] for item in page(api, q, **extra)["items"]]


def test_chinese_words_are_found_inside_unspaced_titles(api: Api, shop: Shop) -> None:
    shop.listing(sku="1", title="西湖龙井绿茶", language="zh-Hans")
    shop.listing(
        sku="2", title="景德镇青花瓷茶杯", description="", category="tea-ware", hs_code="6911.10"
    )
    shop.listing(sku="3", title="新疆和田大枣", description="", category="dates", hs_code="0813.40")
    assert search(api, "龙井茶") == ["西湖龙井绿茶"]  # jieba's one word, not in the title as such
    assert sorted(search(api, "茶")) == ["景德镇青花瓷茶杯", "西湖龙井绿茶"]
    assert search(api, "龙井") == ["西湖龙井绿茶"]
    assert search(api, "龙井绿茶") == ["西湖龙井绿茶"]
    assert search(api, "青花瓷") == ["景德镇青花瓷茶杯"]
    assert search(api, "红茶") == []


def test_japanese_is_found_by_bigrams(api: Api, shop: Shop) -> None:
    shop.listing(sku="1", language="ja", title="宇治抹茶パウダー", description="石臼挽きの抹茶")
    shop.listing(
        sku="2",
        language="ja",
        title="有田焼の湯呑み",
        description="",
        category="tea-ware",
        hs_code="6911.10",
    )
    assert search(api, "抹茶", locale="ja") == ["宇治抹茶パウダー"]
    assert search(api, "パウダー", locale="ja") == ["宇治抹茶パウダー"]
    assert search(api, "宇治の抹茶", locale="ja") == ["宇治抹茶パウダー"]  # の in its description
    assert search(api, "抹茶ラテ", locale="ja") == []  # ラテ is nowhere
    assert search(api, "湯呑み", locale="ja") == ["有田焼の湯呑み"]
    assert search(api, "ﾊﾟｳﾀﾞｰ", locale="ja") == ["宇治抹茶パウダー"]  # half-width katakana


@pytest.mark.parametrize(
    ("language", "title", "inflected", "typo", "corrected"),
    [
        ("en", "Silk scarf", "scarves", "silkk", "silk"),
        ("en", "Wool shawls", "shawl", "shavls", "shawls"),
        ("en", "Porcelain tea set", "porcelains", "porcelian", "porcelain"),
        ("ru", "Зелёный чай", "чая", "зелоный", "зелёный"),
        ("ru", "Шёлковый платок", "шёлковые", "шелкавый", "шёлковый"),
        ("tr", "El dokuması halı", "halılar", "dokumsı", "dokuması"),
        ("tr", "El yapımı kilim", "kilimler", "kolim", "kilim"),
        ("kk", "Жүн кілем", "кілемдер", "кілам", "кілем"),
        ("kk", "Жібек орамал", "орамалдар", "жібак", "жібек"),
        ("ar", "سجادة صوف", "سجادات", "سجاجة", "سجادة"),
        ("ar", "طقم شاي بورسلين", "البورسلين", "بورصلين", "بورسلين"),
        ("uz", "Samarqand gilami", "gilamlar", "semarqand", "samarqand"),
        ("de", "Handgeknüpfter Teppich", "Teppiche", "Teppisch", "teppich"),
        ("fr", "Écharpe en soie", "écharpes", "echarpr", "écharpe"),
        ("es", "Alfombra de lana", "alfombras", "alfonbra", "alfombra"),
    ],
)
def test_inflected_forms_and_typos_find_the_listing(
    api: Api,
    shop: Shop,
    language: str,
    title: str,
    inflected: str,
    typo: str,
    corrected: str,
) -> None:
    shop.listing(sku="1", language=language, title=title, description="")
    shop.listing(
        sku="2",
        language="en",
        title="Kettle",
        description="",
        category="tea-ware",
        hs_code="6911.10",
    )
    assert search(api, inflected, locale=language) == [title]
    found = page(api, typo, locale=language)
    assert [item["title"] for item in found["items"]] == [title]
    assert found["did_you_mean"] == corrected
    exact = page(api, title, locale=language)
    assert exact["did_you_mean"] is None
    assert [item["title"] for item in exact["items"]] == [title]


def test_a_query_in_another_language_than_the_readers_is_still_stemmed(
    api: Api, shop: Shop
) -> None:
    shop.listing(sku="1", language="tr", title="Yün halı", description="")
    shop.listing(sku="2", language="en", title="Silk scarf", description="")
    assert search(api, "halılar", locale="en") == ["Yün halı"]
    assert search(api, "scarves", locale="ru") == ["Silk scarf"]


def test_any_translation_is_searched_and_the_reader_gets_their_language(
    api: Api, shop: Shop
) -> None:
    listing = shop.listing(sku="1", title="西湖龙井绿茶", language="zh-Hans")
    shop.translate(listing["id"], "ru", "Зелёный чай Лунцзин", "Весенний сбор с озера Сиху")
    shop.translate(listing["id"], "ar", "شاي لونغجينغ الأخضر")
    shop.translate(listing["id"], "en", "Longjing green tea")
    assert search(api, "чай", locale="ru") == ["Зелёный чай Лунцзин"]
    assert search(api, "ЧАЙ", locale="ru") == ["Зелёный чай Лунцзин"]
    assert search(api, "Зеленый", locale="ru") == ["Зелёный чай Лунцзин"]  # ё and е alike
    assert search(api, "сиху", locale="ru") == ["Зелёный чай Лунцзин"]  # descriptions count too
    assert search(api, "الأخضر", locale="ar") == ["شاي لونغجينغ الأخضر"]
    assert search(api, "الاخضر", locale="ar") == ["شاي لونغجينغ الأخضر"]  # hamza ignored
    assert search(api, "شَاي", locale="ar") == ["شاي لونغجينغ الأخضر"]  # vowel marks ignored
    assert search(api, "GREEN Tea", locale="en") == ["Longjing green tea"]
    assert search(api, "green coffee") == []


def test_accents_case_and_width_do_not_matter(api: Api, shop: Shop) -> None:
    shop.listing(
        sku="1",
        language="tr",
        title="İpek Eşarp Çiçekli",
        category="scarves-shawls",
        hs_code="6214.10",
    )
    shop.listing(sku="2", language="fr", title="Thé vert à la menthe", category="green-tea")
    assert search(api, "ipek esarp") == ["İpek Eşarp Çiçekli"]
    assert search(api, "ÇİÇEKLİ") == ["İpek Eşarp Çiçekli"]
    assert search(api, "the vert") == ["Thé vert à la menthe"]
    assert search(api, "ＴＨＥ") == ["Thé vert à la menthe"]


def test_short_and_odd_queries_are_safe(api: Api, shop: Shop) -> None:
    shop.listing(
        sku="1",
        title="100% cotton 50_50 bag",
        language="en",
        category="textiles",
        hs_code="4202.22",
    )
    assert search(api, "%") == []  # punctuation alone matches nothing, not everything
    assert search(api, "50_50") == ["100% cotton 50_50 bag"]
    assert search(api, '"cotton') == ["100% cotton 50_50 bag"]
    assert search(api, "x" * 200) == []
    assert search(api, " ".join(["cotton"] * 20)) == ["100% cotton 50_50 bag"]


def test_the_best_match_comes_first(api: Api, shop: Shop) -> None:
    tea_ware = {"category": "tea-ware", "hs_code": "6911.10"}
    shop.listing(
        sku="1", language="en", title="Porcelain cup", description="For green tea", **tea_ware
    )
    shop.listing(sku="2", language="en", title="Green tea", description="Spring harvest")
    shop.listing(sku="3", language="en", title="Greenish teapot", description="", **tea_ware)
    # A title beats a description; a word is a word, not a fragment of another.
    assert search(api, "green tea") == ["Green tea", "Porcelain cup"]
    shop.listing(
        sku="4",
        language="en",
        title="Silk scarves",
        description="",
        category="scarves-shawls",
        hs_code="6214.10",
    )
    shop.listing(
        sku="5",
        language="en",
        title="Silk scarf",
        description="",
        category="scarves-shawls",
        hs_code="6214.10",
    )
    assert search(api, "scarf") == ["Silk scarf", "Silk scarves"]  # the word as typed first
    assert search(api, "scarves") == ["Silk scarves", "Silk scarf"]
    # A rare word counts more than a common one.
    shop.listing(
        sku="6",
        language="en",
        title="Silk scarf, crimson",
        description="",
        category="scarves-shawls",
        hs_code="6214.10",
    )
    assert search(api, "silk crimson")[0] == "Silk scarf, crimson"


def test_a_typo_is_only_corrected_when_the_word_itself_is_nowhere(api: Api, shop: Shop) -> None:
    shop.listing(sku="1", language="en", title="Kilim rug", description="")
    assert search(api, "kilm") == ["Kilim rug"]  # 4 letters, one edit from a 5-letter word
    assert page(api, "KOLIM Rug")["did_you_mean"] == "kilim rug"
    shop.listing(sku="2", language="en", title="Kilm the brand", description="")
    assert search(api, "kilm") == ["Kilm the brand"]
    assert page(api, "kilm")["did_you_mean"] is None
    assert page(api, "rugz")["items"] == []  # 4 letters against 3: no edit is tolerated


def test_an_edited_listing_is_found_by_its_new_words_at_once(api: Api, shop: Shop) -> None:
    listing = shop.listing(sku="1", language="en", title="Black tea", description="")
    assert search(api, "black") == ["Black tea"]
    response = api.patch(f"/listings/{listing['id']}", json={"title": "Oolong tea"}, as_=shop.owner)
    assert response.status_code == 200, response.get_json()
    assert search(api, "oolong") == ["Oolong tea"]
    assert search(api, "black") == []
    shop.translate(listing["id"], "de", "Oolong-Tee aus Taiwan")
    assert search(api, "taiwan") == ["Oolong tea"]
    assert (
        api.delete(f"/listings/{listing['id']}/translations/de", as_=shop.owner).status_code == 204
    )
    assert search(api, "taiwan") == []


def test_search_pages_with_a_cursor_and_combines_with_filters(api: Api, shop: Shop) -> None:
    for i in range(5):
        shop.listing(
            sku=f"T{i}",
            language="en",
            title=f"Tea number {i}",
            ships_to=["KZ"] if i % 2 else ["UZ"],
        )
    seen: list[str] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"q": "tea", "limit": 2, **({"cursor": cursor} if cursor else {})}
        found = api.get("/catalogue", query_string=query).get_json()
        assert found["sort"] == "relevance"
        seen += [i["title"] for i in found["items"]]
        cursor = found["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"Tea number {i}" for i in range(5)]
    assert len(seen) == 5
    assert sorted(search(api, "tea", ship_to="KZ")) == ["Tea number 1", "Tea number 3"]
    assert search(api, "tea", sort="newest")[0] == "Tea number 4"


def test_a_common_word_ranks_only_its_best_candidates(
    api: Api, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented bound: CANDIDATES listings per token of the rarest word, the best first."""
    monkeypatch.setattr(search_query, "CANDIDATES", 3)
    for i in range(1, 5):
        shop.listing(
            sku=f"T{i}", language="en", title=f"Tea {i}", description="tea " * i, ships_to=["UZ"]
        )
    shop.listing(
        sku="K", language="en", title="Tea for Kazakhstan", description="", ships_to=["KZ"]
    )
    shop.listing(sku="J", language="en", title="Tea with jasmine", description="", ships_to=["UZ"])
    found = search(api, "tea")
    assert len(found) == 3
    assert found[0] == "Tea 4"  # the word most often there
    # Filters apply while candidates are read, not after: the weakest match is still found.
    assert search(api, "tea", ship_to="KZ") == ["Tea for Kazakhstan"]
    assert search(api, "jasmine tea") == ["Tea with jasmine"]  # the rarer word drives


def test_searches_of_one_shape_share_a_statement_each_with_its_own_words(
    api: Api, shop: Shop
) -> None:
    """A first page without filters is built once per plan shape, then run with each plan's
    parameters: the second search must find its own words, not the first one's."""
    shop.listing(sku="S", language="en", title="Silk scarf", description="")
    shop.listing(sku="W", language="en", title="Wool shawl", description="")
    browse._search_pages.clear()
    assert search(api, "scarf") == ["Silk scarf"]
    built = dict(browse._search_pages)
    assert len(built) == 1
    assert search(api, "shawl") == ["Wool shawl"]
    assert search(api, "silk scarf") == ["Silk scarf"]
    assert search(api, "wool shawl") == ["Wool shawl"]
    assert len(browse._search_pages) == 2  # one statement per shape: one word, two words
    assert browse._search_pages[next(iter(built))] is next(iter(built.values()))
    # With a filter the page is built for the request, and finds the same.
    assert search(api, "shawl", origin="CN") == ["Wool shawl"]
    assert search(api, "shawl", origin="TR") == []


def test_a_search_costs_at_most_two_sql_statements(
    app: Flask,
    api: Api,
    shop: Shop,
    session: Session,
    rates: RateTable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in production, the rate set is kept a while; the test settings read it every request.
    monkeypatch.setitem(app.config["MARKETPLACE"], "CATALOGUE_RATES_TTL", 3600)
    for i in range(30):
        shop.listing(sku=f"S{i}", language="en", title=f"Silk scarf {i}", description="Fine silk")
    engine = session.get_bind()
    statements: list[str] = []

    def count(*args: Any) -> None:
        if not str(args[2]).startswith(("SAVEPOINT", "RELEASE")):  # the test's own transaction
            statements.append(str(args[2]))

    for q in ["silk", "silk scarf", "scarves", "silkk scraf", "丝巾", "nothing-here"]:
        search(api, q, locale="en")  # the rate set and anything else cached is read once
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            search(api, q, locale="en", limit=20)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(statements) <= 2, (q, statements)


def test_suggestions_complete_titles_in_the_readers_locale(api: Api, shop: Shop) -> None:
    green = shop.listing(sku="1", language="en", title="Longjing green tea", description="")
    shop.translate(green["id"], "ru", "Зелёный чай Лунцзин")
    shop.listing(
        sku="2",
        language="en",
        title="Green jade cup",
        description="",
        category="tea-ware",
        hs_code="6911.10",
    )
    shop.listing(sku="3", language="en", title="Greenland draft", description="", status="draft")
    shop.listing(sku="4", language="zh-Hans", title="西湖龙井绿茶", description="")

    def suggest(q: str, locale: str) -> list[dict[str, Any]]:
        response = api.get("/catalogue/suggest", query_string={"q": q, "locale": locale})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["suggestions"]

    assert [s["text"] for s in suggest("gree", "en")] == ["Green jade cup", "Longjing green tea"]
    assert suggest("green t", "en") == [{"text": "Longjing green tea", "listing_id": green["id"]}]
    assert [s["text"] for s in suggest("ЗЕЛЕН", "ru")] == ["Зелёный чай Лунцзин"]
    assert suggest("зелен", "en") == []  # only titles in the reader's locale
    assert [s["text"] for s in suggest("龙井", "zh-Hans")] == ["西湖龙井绿茶"]
    assert suggest("greenl", "en") == []  # drafts are not suggested
    response = api.get("/catalogue/suggest", query_string={"q": ""})
    assert response.status_code == 422


def test_the_index_is_rebuilt_from_the_listings_by_the_cli(
    app: Flask, api: Api, shop: Shop, session: Session
) -> None:
    listing = shop.listing(sku="1", language="en", title="Silk scarf", description="")
    shop.translate(listing["id"], "ru", "Шёлковый платок")
    session.execute(delete(Posting))
    assert search(api, "scarves") == []
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "1 listings indexed" in result.output
    assert search(api, "scarves") == ["Silk scarf"]
    assert search(api, "шёлковые", locale="ru") == ["Шёлковый платок"]


def test_long_queries_stay_cheap(api: Api, shop: Shop) -> None:
    shop.listing(sku="1", title="西湖龙井绿茶", language="zh-Hans")
    # An unspaced run is read up to MAX_RUN characters, a word up to 64 letters.
    assert search(api, "龙井" * 100) == ["西湖龙井绿茶"]
    assert search(api, "西湖龙井绿茶" + "茶" * 150) == ["西湖龙井绿茶"]
    assert search(api, "西湖龙井红茶" + "茶" * 150) == []
    assert search(api, ("porcelainx" * 19)[:190]) == []
    assert search(api, " ".join(f"tea{i}" for i in range(30))) == []  # 8 words are read
