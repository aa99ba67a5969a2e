"""GET /categories: the demo tree, named in the reader's language, cached with an ETag."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Category
from marketplace.i18n import SUPPORTED_LOCALES
from tests.helpers import Api, assert_problem


def find(nodes: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    for node in nodes:
        if node["slug"] == slug:
            return node
        if node["children"]:
            try:
                return find(node["children"], slug)
            except LookupError:
                pass
    raise LookupError(slug)


@pytest.mark.parametrize(
    ("query", "headers", "locale", "tea", "green_tea"),
    [
        ({"locale": "ru"}, {}, "ru", "Чай", "Зелёный чай"),
        ({}, {"Accept-Language": "zh-CN,zh;q=0.9"}, "zh-Hans", "茶叶", "绿茶"),
        ({"locale": "ar"}, {"Accept-Language": "ru"}, "ar", "الشاي", "الشاي الأخضر"),
        ({}, {}, "en", "Tea", "Green tea"),
    ],
)
def test_categories_are_a_tree_named_in_the_readers_language(
    api: Api, query: dict[str, str], headers: dict[str, str], locale: str, tea: str, green_tea: str
) -> None:
    response = api.get("/categories", query_string=query, headers=headers)
    assert response.status_code == 200
    assert (
        response.headers["Content-Language"] == locale
        and "Accept-Language" in response.headers["Vary"]
    )
    body = response.get_json()
    assert body["locale"] == locale
    food = find(body["categories"], "food-drink")
    assert find(food["children"], "tea")["name"] == tea
    assert find(find(food["children"], "tea")["children"], "green-tea")["name"] == green_tea


def test_the_demo_tree_covers_silk_road_goods(api: Api) -> None:
    roots = api.get("/categories").get_json()["categories"]
    for slug in (
        "tea",
        "dried-fruit-nuts",
        "spices",
        "silk-fabric",
        "carpets",
        "ceramics",
        "handicrafts",
        "electronics-accessories",
    ):
        find(roots, slug)


def test_every_category_is_named_in_all_six_interface_locales(session: Session) -> None:
    categories = list(session.scalars(select(Category)))
    assert len(categories) >= 30
    for category in categories:
        wanted = {locale.replace("_", "-") for locale in SUPPORTED_LOCALES}
        assert {tag for tag, name in category.names.items() if name.strip()} >= wanted, (
            category.slug
        )


def test_categories_answer_a_matching_etag_with_304(api: Api) -> None:
    first = api.get("/categories", query_string={"locale": "kk"})
    assert first.headers["ETag"]
    again = api.get(
        "/categories",
        query_string={"locale": "kk"},
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304 and again.get_data() == b""
    other = api.get(
        "/categories",
        query_string={"locale": "tr"},
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert other.status_code == 200 and find(other.get_json()["categories"], "tea")["name"] == "Çay"


def test_a_bad_categories_query_is_a_422(api: Api) -> None:
    body = assert_problem(api.get("/categories", query_string={"locale": "!!"}), 422)
    assert "locale" in body["errors"]
