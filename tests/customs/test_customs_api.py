"""Customs over HTTP: HS code lookup and the operators' rule records."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.services import grant_operator
from marketplace.customs.models import CustomsRule
from tests.factories import make_listing
from tests.helpers import Api, Caller, assert_problem


def test_a_real_subheading_is_described_in_english(api: Api) -> None:
    response = api.get("/hs-codes/0902.10%2000?locale=ru")
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == "09021000" and body["valid"] is True and body["level"] == 8
    assert "Tea, green" in body["description"] and body["description_locale"] == "en"


def test_a_well_formed_unknown_code_is_not_valid(api: Api) -> None:
    body = api.get("/hs-codes/090299").get_json()
    assert body == {
        "code": "090299",
        "valid": False,
        "level": None,
        "description": None,
        "description_locale": "en",
        "edition": "HS2022",
    }


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


def test_operators_list_rules_with_their_source_and_checked_date(
    api: Api, session: Session
) -> None:
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
    assert_problem(
        api.put(f"/customs/rules/{record['id']}", json=body, as_=someone), 403, "operator_required"
    )
    assert_problem(api.get(f"/customs/rules/{record['id']}", as_=someone), 403)


def editable(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: copy.deepcopy(v) for k, v in record.items() if k not in ("id", "edited_by", "updated_at")
    }


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
    body = assert_problem(
        api.post("/customs/rules", json=successor, as_=caller), 409, "customs_rule_overlap"
    )
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


# GET /landed-cost


def put_rates(api: Api, session: Session) -> None:
    caller = operator(api, session)
    response = api.put(
        "/rates",
        as_=caller,
        json={
            "base": "EUR",
            "as_of": "2026-11-27",
            "rates": {"CNY": "8", "TRY": "40", "USD": "1.10", "KZT": "550", "RUB": "100"},
        },
    )
    assert response.status_code == 200, response.get_json()


def basket(api: Api, session: Session) -> tuple[str, str]:
    owner = api.user()
    tea_seller = api.seller(owner)["id"]
    rug_seller = api.seller(
        owner,
        name="Grand Bazaar",
        country="TR",
        currency="TRY",
        address={"line1": "1 Bazaar", "city": "Istanbul", "country": "TR"},
    )["id"]
    tea = make_listing(
        session,
        tea_seller,
        sku="sku-40000-090210",
        title="Item",
        price_minor=40000,
        currency="CNY",
        weight_grams=400,
        hs_code="090210",
        origin_country="CN",
        search_text="item",
    )
    rug = make_listing(
        session,
        rug_seller,
        sku="sku-800000-570110",
        title="Item",
        price_minor=800000,
        currency="TRY",
        weight_grams=400,
        hs_code="570110",
        origin_country="TR",
        ships_to=["DE", "KZ"],
        search_text="item",
    )
    return tea, rug


def test_a_basket_is_estimated_per_shipment_with_sources_and_reasons(
    api: Api, session: Session
) -> None:
    put_rates(api, session)
    tea, rug = basket(api, session)
    response = api.get(
        f"/landed-cost?to=DE&currency=EUR&incoterm=DAP&date=2026-07-01&lines={tea}:1,{rug}:1,{tea}:1"
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["shipping_known"] is False and "zero" in body["shipping_note"]
    by_origin = {s["ship_from"]: s for s in body["shipments"]}
    # Tea: 2 x 400 CNY = 100 EUR <= 150 on 2026-07-01: flat EUR 3; IOSS VAT 19% x 103 = 19.57 at checkout.
    tea_quote = by_origin["CN"]
    assert (
        tea_quote["duties"]["local"]["amount"] == "3.00"
        and tea_quote["taxes"]["local"]["amount"] == "19.57"
    )
    assert tea_quote["payable_at_checkout"]["requested"]["amount"] == "19.57"
    assert tea_quote["due_on_delivery"]["requested"]["amount"] == "3.00"
    assert tea_quote["rule"]["source"].startswith("http") and tea_quote["rule"]["checked_on"]
    assert tea_quote["collected_at_sale"] == "IOSS"
    assert "flat_duty" in {e["code"] for e in tea_quote["explanations"]}
    # Carpet: 8,000 TRY = 200 EUR > 150: duty 8% = 16.00; VAT 19% x 216 = 41.04; DAP: all on delivery.
    rug_quote = by_origin["TR"]
    assert (
        rug_quote["duties"]["local"]["amount"] == "16.00"
        and rug_quote["taxes"]["local"]["amount"] == "41.04"
    )
    assert rug_quote["de_minimis"] == {"duty": None, "tax": None}
    assert body["totals"]["duties_and_taxes"] == {
        "amount": "79.61",
        "currency": "EUR",
        "formatted": "€79.61",
    }
    assert body["totals"]["due_on_delivery"]["amount"] == "60.04"


def test_explanations_follow_the_requested_locale(api: Api, session: Session) -> None:
    put_rates(api, session)
    tea, _rug = basket(api, session)
    response = api.get(f"/landed-cost?to=KZ&lines={tea}:1&date=2026-03-01&locale=kk")
    body = response.get_json()
    assert response.status_code == 200 and body["locale"] == "kk" and body["currency"] == "CNY"
    (shipment,) = body["shipments"]
    assert shipment["currency"] == "KZT"
    within = next(e for e in shipment["explanations"] if e["code"] == "allowance_within")
    assert "норма" in within["text"]


def test_landed_cost_refuses_bad_input_with_clear_codes(api: Api, session: Session) -> None:
    put_rates(api, session)
    tea, rug = basket(api, session)
    assert_problem(api.get(f"/landed-cost?to=BR&lines={tea}:1"), 422, "no_customs_rule")
    assert_problem(
        api.get(f"/landed-cost?to=DE&lines={tea}:1&date=2020-01-01"), 422, "no_customs_rule"
    )
    assert_problem(api.get(f"/landed-cost?to=US&lines={rug}:1"), 422, "not_shipped_to")
    assert_problem(api.get("/landed-cost?to=DE&lines=unknown:1"), 404, "listing_not_found")
    for query in (
        f"to=XX&lines={tea}:1",
        "to=DE&lines=",
        f"to=DE&lines={tea}:0",
        f"to=DE&lines={tea}",
        f"to=DE&lines={tea}:1&incoterm=EXW",
        f"to=DE&lines={tea}:1&currency=ABC",
        "to=DE",
        f"to=DE&lines={tea}:1&date=yesterday",
        f"to=DE&lines={tea}:1001",
    ):
        assert_problem(api.get(f"/landed-cost?{query}"), 422)


def test_landed_cost_needs_exchange_rates(api: Api, session: Session) -> None:
    tea, _rug = basket(api, session)
    assert_problem(api.get(f"/landed-cost?to=DE&lines={tea}:1"), 409, "rates_unavailable")


def test_a_malformed_basket_is_explained_in_the_callers_language(api: Api) -> None:
    body = assert_problem(api.get("/landed-cost?to=DE&lines=abc&locale=ru"), 422, "invalid")
    assert body["errors"]["lines"] == ["Каждая строка — listing_id:количество, например abc:2."]
