"""The demo catalogue shows goods from several countries, translated."""

from __future__ import annotations

from flask import Flask

from tests.helpers import Api


def test_demo_catalogue_has_sellers_from_six_countries_readable_in_russian(
    app: Flask, api: Api
) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "catalogue:" in result.output
    items = api.get("/catalogue", query_string={"locale": "ru", "limit": 100}).get_json()["items"]
    assert {item["seller"]["country"] for item in items} >= {"CN", "KZ", "UZ", "TR", "PK", "AE"}
    assert sum(item["translated"] or item["locale"] == "ru" for item in items) == len(items)
    found = api.get("/catalogue", query_string={"q": "茶", "locale": "zh-Hans"}).get_json()["items"]
    assert any("龙井" in item["title"] for item in found)
