"""GET /currencies, GET and PUT /rates, GET /rates/{id}, and `flask rates import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.demo.money import DEMO_RATES
from marketplace.money.models import RateSet
from tests.helpers import Api, Caller, assert_problem

ECB_FILE = Path(__file__).resolve().parent / "data" / "eurofxref-daily-2022-07-08.xml"


@pytest.fixture
def operator(api: Api, session: Session) -> Caller:
    caller = api.user("Rates Operator")
    user = session.get(User, caller.id)
    assert user is not None
    user.is_operator = True
    session.flush()
    return caller


@pytest.fixture
def ecb_rates(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["rates", "import", str(ECB_FILE)])
    assert result.exit_code == 0, result.output


def set_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RateSet)) or 0


def test_currencies_are_listed_with_names_and_symbols_in_the_requested_locale(api: Api) -> None:
    response = api.get("/currencies?locale=kk")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "kk"
    by_code = {c["code"]: c for c in response.get_json()}
    assert by_code["KZT"] == {
        "code": "KZT",
        "name": "Қазақстан теңгесі",
        "minor_units": 2,
        "symbol": "₸",
    }
    assert by_code["JPY"]["minor_units"] == 0 and by_code["KWD"]["minor_units"] == 3
    assert "HRK" not in by_code


def test_currency_names_follow_accept_language_too(api: Api) -> None:
    response = api.get("/currencies", headers={"Accept-Language": "zh-Hans-CN,zh;q=0.9"})
    assert {c["code"]: c["name"] for c in response.get_json()}["CNY"] == "人民币"
    english = {c["code"]: c["name"] for c in api.get("/currencies").get_json()}
    assert english["CNY"] == "Chinese Yuan"


@pytest.mark.parametrize("query", ["locale=not a tag!", "locale=" + "a" * 50])
def test_a_bad_currencies_query_is_a_422(api: Api, query: str) -> None:
    assert_problem(api.get(f"/currencies?{query}"), 422)


def test_no_rates_loaded_is_a_clear_conflict(api: Api) -> None:
    assert_problem(api.get("/rates"), 409, "rates_unavailable")


@pytest.mark.usefixtures("ecb_rates")
def test_the_imported_ecb_rates_are_served_with_their_date_source_and_staleness(api: Api) -> None:
    body = api.get("/rates").get_json()
    assert (body["base"], body["as_of"], body["source"]) == ("EUR", "2022-07-08", "ecb")
    assert len(body["rates"]) == 31
    assert body["rates"]["USD"] == "1.0163" and body["rates"]["ISK"] == "139.5"
    assert body["origins"]["USD"] == {"as_of": "2022-07-08", "source": "ecb", "stale": True}
    assert "USD" in body["stale"]
    by_id = api.get(f"/rates/{body['id']}")
    assert by_id.status_code == 200 and by_id.get_json() == body


def test_an_unknown_rate_set_is_a_404(api: Api) -> None:
    assert_problem(
        api.get("/rates/00000000-0000-0000-0000-000000000000"), 404, "rate_set_not_found"
    )


@pytest.mark.usefixtures("ecb_rates")
def test_an_operator_adds_rates_the_ecb_does_not_publish(api: Api, operator: Caller) -> None:
    response = api.put(
        "/rates", as_=operator, json={"base": "EUR", "rates": {"KZT": "489.50", "RUB": "60.1"}}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["source"] == "operator" and len(body["rates"]) == 33
    assert body["rates"]["KZT"] == "489.5" and body["origins"]["KZT"]["source"] == "operator"
    assert body["origins"]["KZT"]["stale"] is False and "KZT" not in body["stale"]
    assert body["rates"]["USD"] == "1.0163" and body["origins"]["USD"]["source"] == "ecb"
    assert api.get("/rates").get_json() == body


def test_anonymous_callers_may_not_change_rates(api: Api, session: Session) -> None:
    assert_problem(api.put("/rates", json={"base": "EUR", "rates": {"KZT": "489.5"}}), 401)
    assert set_count(session) == 0


def test_users_who_are_not_operators_may_not_change_rates(api: Api, session: Session) -> None:
    seller = api.user("Seller")
    response = api.put("/rates", as_=seller, json={"base": "EUR", "rates": {"KZT": "489.5"}})
    assert_problem(response, 403, "operator_required")
    assert set_count(session) == 0


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"rates": {"KZT": "489.5"}}, 422, "invalid", "base"),
        ({"base": "EUR"}, 422, "invalid", "rates"),
        ({"base": "XYZ", "rates": {"KZT": "489.5"}}, 422, "invalid", "base"),
        ({"base": "EUR", "rates": {"XYZ": "1.5"}}, 422, "currency_unknown", "rates.XYZ"),
        ({"base": "EUR", "rates": {"TOOLONG": "1.5"}}, 422, "invalid", None),
        ({"base": "EUR", "rates": {"KZT": "abc"}}, 422, "rate_invalid", "rates.KZT"),
        ({"base": "EUR", "rates": {"KZT": "-489.5"}}, 422, "rate_invalid", "rates.KZT"),
        ({"base": "EUR", "rates": {"KZT": "0"}}, 422, "rate_invalid", "rates.KZT"),
        ({"base": "EUR", "rates": {"KZT": 489.5}}, 422, "rate_invalid", "rates.KZT"),
        ({"base": "EUR", "rates": {"KZT": "4.895e2"}}, 422, "rate_invalid", "rates.KZT"),
        ({"base": "EUR", "rates": {"KZT": None}}, 422, "invalid", "rates.KZT.value"),
        ({"base": "EUR", "rates": {}}, 422, "rate_invalid", "rates"),
        ({"base": "EUR", "rates": ["KZT", "489.5"]}, 422, "invalid", "rates"),
        ({"base": "EUR", "rates": {"EUR": "1"}}, 422, "rate_invalid", "rates.EUR"),
        (
            {"base": "EUR", "rates": {"KZT": "489.5"}, "as_of": "2999-01-01"},
            422,
            "rate_invalid",
            "as_of",
        ),
        ({"base": "EUR", "rates": {"KZT": "489.5"}, "as_of": "yesterday"}, 422, "invalid", "as_of"),
        ({"base": "EUR", "rates": {"KZT": "489.5"}, "source": "ecb"}, 422, "invalid", "source"),
    ],
)
@pytest.mark.usefixtures("ecb_rates")
def test_bad_rates_are_a_problem_and_leave_the_current_set_unchanged(
    api: Api,
    operator: Caller,
    session: Session,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str | None,
) -> None:
    before = api.get("/rates").get_json()
    problem = assert_problem(api.put("/rates", as_=operator, json=body), status, code)
    if field is not None:
        assert field in problem["errors"], problem
    assert api.get("/rates").get_json() == before
    assert set_count(session) == 1


@pytest.mark.usefixtures("ecb_rates")
def test_rate_errors_are_explained_in_the_callers_language(api: Api, operator: Caller) -> None:
    response = api.put(
        "/rates",
        as_=operator,
        json={"base": "EUR", "rates": {"KZT": "-1"}},
        headers={"Accept-Language": "ru"},
    )
    problem = assert_problem(response, 422, "rate_invalid")
    assert problem["detail"] == "Некоторые курсы недопустимы; ничего не изменено."
    assert problem["errors"]["rates.KZT"][0].startswith("Курс — положительная")


@pytest.mark.usefixtures("ecb_rates")
def test_a_body_that_is_not_json_is_refused(api: Api, operator: Caller) -> None:
    assert_problem(api.put("/rates", as_=operator, data="base=EUR", content_type="text/plain"), 415)
    assert_problem(api.put("/rates", as_=operator, data="{", content_type="application/json"), 400)


def test_the_cli_refuses_a_hostile_file_and_stores_nothing(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    hostile = tmp_path / "evil.xml"
    hostile.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'
    )
    result = app.test_cli_runner().invoke(args=["rates", "import", str(hostile)])
    assert result.exit_code != 0
    assert "DTD or entities" in result.output
    assert set_count(session) == 0


def test_the_cli_says_what_it_imported(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["rates", "import", str(ECB_FILE)])
    assert result.exit_code == 0
    assert "31 ecb rates of 2022-07-08 (EUR base)" in result.output


def test_the_demo_rates_cover_every_demo_currency_and_load_once(
    app: Flask, api: Api, session: Session
) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert set_count(session) == 1
    body = api.get("/rates").get_json()
    assert body["source"] == "demo" and body["stale"] == []
    wanted = {
        "CNY",
        "KZT",
        "UZS",
        "TRY",
        "PKR",
        "AED",
        "USD",
        "GBP",
        "RUB",
        "SAR",
        "JPY",
        "KWD",
        "XDR",
    }
    assert wanted <= set(body["rates"]) == set(DEMO_RATES)
    assert body["base"] == "EUR"
    assert {origin["source"] for origin in body["origins"].values()} == {"demo"}
