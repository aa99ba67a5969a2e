"""Customs over HTTP: HS code lookup and the operators' rule records."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.services import grant_operator
from marketplace.customs.models import CustomsRule
from tests.helpers import Api, Caller, assert_problem


def test_a_real_subheading_is_described_in_english(api: Api) -> None:
    response = api.get("/hs-codes/0902.10%2000?locale=ru")
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == "09021000" and body["valid"] is True and body["level"] == 8
    assert "Tea, green" in body["description"] and body["description_locale"] == "en"


def test_a_well_formed_unknown_code_is_not_valid(api: Api) -> None:
    body = api.get("/hs-codes/090299").get_json()
    assert body == {"code": "090299", "valid": False, "level": None, "description": None,
                    "description_locale": "en", "edition": "HS2022"}


def test_a_malformed_code_is_a_problem(api: Api) -> None:
    for raw in ("0902", "09x210", "12345678901"):
        body = assert_problem(api.get(f"/hs-codes/{raw}"), 422, "hs_code_invalid")
        assert "hs_code" in body["errors"]
    body = assert_problem(api.get("/hs-codes/0902?locale=ru"), 422, "hs_code_invalid")
    assert "HS" in body["detail"] and "digits" not in body["detail"]


def operator(api: Api, session: Session) -> Caller:
    caller = api.user("Operator")
    grant_operator(session, caller.email)
    session.flush()
    return caller


def gb_rule(api: Api, caller: Caller) -> dict[str, Any]:
    listed = api.get("/customs/rules?destination=GB", as_=caller)
    assert listed.status_code == 200
    (record,) = listed.get_json()["items"]
    return record


def test_operators_list_rules_with_their_source_and_checked_date(api: Api, session: Session) -> None:
    caller = operator(api, session)
    body = api.get("/customs/rules", as_=caller).get_json()
    assert body["next_cursor"] is None and len(body["items"]) >= 18
    for record in body["items"]:
        assert record["source"].startswith("http") and record["checked_on"]
    eaeu = api.get("/customs/rules?country=KZ", as_=caller).get_json()["items"]
    assert {record["destination"] for record in eaeu} == {"EAEU"}


def test_only_operators_see_or_change_rules(api: Api, session: Session) -> None:
    assert_problem(api.get("/customs/rules"), 401)
    someone = api.user()
    assert_problem(api.get("/customs/rules", as_=someone), 403, "operator_required")
    record = gb_rule(api, operator(api, session))
    body = {k: v for k, v in record.items() if k not in ("id", "edited_by", "updated_at")}
    assert_problem(api.put(f"/customs/rules/{record['id']}", json=body, as_=someone), 403, "operator_required")
    assert_problem(api.get(f"/customs/rules/{record['id']}", as_=someone), 403)


def editable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in record.items() if k not in ("id", "edited_by", "updated_at")}


def test_an_operator_replaces_a_record_and_estimates_follow(api: Api, session: Session) -> None:
    caller = operator(api, session)
    record = gb_rule(api, caller)
    body = editable(record)
    body["countries"]["GB"]["vat_rate"] = "21"
    body["checked_on"] = "2026-11-28"
    response = api.put(f"/customs/rules/{record['id']}", json=body, as_=caller)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["countries"]["GB"]["vat_rate"] == "21"
    assert response.get_json()["edited_by"] == caller.id
    row = session.get(CustomsRule, record["id"])
    session.refresh(row)
    assert row is not None and row.edited_by == caller.id


def test_a_bad_record_is_refused_and_nothing_changes(api: Api, session: Session) -> None:
    caller = operator(api, session)
    record = gb_rule(api, caller)
    cases = []
    for change in (
        {"source": "not a url"},
        {"valid_to": "2020-01-01"},
        {"default_duty_rate": "-1"},
        {"countries": {"GB": {"currency": "XXX", "vat_rate": "20"}}},
        {"customs_value_basis": "EXW"},
        {"surprise": True},
    ):
        cases.append({**editable(record), **change})
    without_source = editable(record)
    del without_source["checked_on"]
    cases.append(without_source)
    for body in cases:
        assert_problem(api.put(f"/customs/rules/{record['id']}", json=body, as_=caller), 422)
    assert gb_rule(api, caller) == record


def test_a_new_period_must_not_overlap_the_current_one(api: Api, session: Session) -> None:
    caller = operator(api, session)
    record = gb_rule(api, caller)
    successor = {**editable(record), "valid_from": "2029-03-01", "duty_de_minimis": None}
    body = assert_problem(api.post("/customs/rules", json=successor, as_=caller), 409, "customs_rule_overlap")
    assert body["conflicting_rule_id"] == record["id"]

    ended = {**editable(record), "valid_to": "2029-02-28"}
    assert api.put(f"/customs/rules/{record['id']}", json=ended, as_=caller).status_code == 200
    created = api.post("/customs/rules", json=successor, as_=caller)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["duty_de_minimis"] is None
    assert len(api.get("/customs/rules?destination=GB", as_=caller).get_json()["items"]) == 2


def test_an_unknown_rule_is_not_found(api: Api, session: Session) -> None:
    caller = operator(api, session)
    assert_problem(api.get("/customs/rules/nope", as_=caller), 404)
    record = gb_rule(api, caller)
    assert_problem(api.put("/customs/rules/nope", json=editable(record), as_=caller), 404)
    assert session.scalar(select(CustomsRule.id).where(CustomsRule.id == "nope")) is None
