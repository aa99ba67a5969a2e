"""What a fuzzer or a hostile client sends: every endpoint answers a problem, never a 500, and
nothing changes."""

from __future__ import annotations

import pytest

from tests.helpers import Api, assert_problem


def test_a_nul_byte_in_a_body_string_is_a_localized_422_and_changes_nothing(api: Api) -> None:
    user = api.user(name="Aida")
    response = api.patch(
        "/me",
        data='{"name": "Ai\\u0000da"}',
        content_type="application/json",
        as_=user,
        headers={"Accept-Language": "ru"},
    )
    body = assert_problem(response, 422, "invalid")
    assert body["errors"]["name"] == ["Содержит недопустимый символ (NUL или непарный суррогат)."]
    assert api.get("/me", as_=user).get_json()["name"] == "Aida"


@pytest.mark.parametrize(
    "document, field",
    [
        ('{"name": "\\ud800"}', "name"),
        ('{"na\\u0000me": "x"}', "na\x00me"),
        ('{"address": {"line1": "a\\u0000", "city": "b", "country": "KZ"}}', "address.line1"),
    ],
)
def test_unpaired_surrogates_and_nul_in_keys_or_nested_values_are_422(
    api: Api, document: str, field: str
) -> None:
    user = api.user()
    response = api.patch("/me", data=document, content_type="application/json", as_=user)
    assert field in assert_problem(response, 422, "invalid")["errors"]


def test_text_beyond_the_basic_plane_is_accepted(api: Api) -> None:
    user = api.user()
    response = api.patch("/me", json={"name": "茶 🍵"}, as_=user)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["name"] == "茶 🍵"


@pytest.mark.parametrize("document", ["[" * 5000 + "]" * 5000, '{"a":' * 40 + "1" + "}" * 40])
def test_json_nested_too_deeply_is_a_400_not_a_crash(api: Api, document: str) -> None:
    user = api.user()
    response = api.post("/orders", data=document, content_type="application/json", as_=user)
    assert_problem(response, 400, "json_too_deep")


def test_a_nul_byte_in_a_query_parameter_is_a_422(api: Api) -> None:
    body = assert_problem(api.get("/catalogue?q=tea%00"), 422, "invalid")
    assert list(body["errors"]) == ["q"]


@pytest.mark.parametrize(
    "path",
    [
        "/catalogue/not-a-uuid",
        "/catalogue/%00",
        "/sellers/not-a-uuid",
        "/sellers/a%00b/shipping-rates",
        "/brokerages/99999999999999999999999999",
        "/rates/not-a-uuid",
        "/listings/not-a-uuid",
        "/orders/not-a-uuid",
        "/orders/%00/payments",
        "/shipments/not-a-uuid",
        "/shipments/not-a-uuid/documents",
        "/shipments/not-a-uuid/documents/cn22",
    ],
)
def test_ids_that_are_not_uuids_are_404_on_every_database(api: Api, path: str) -> None:
    assert_problem(api.get(path, as_=api.user()), 404)


def test_an_anonymous_caller_hears_401_before_any_complaint_about_the_body(api: Api) -> None:
    assert_problem(api.patch("/me"), 401)
    assert_problem(api.post("/orders", data="<xml/>", content_type="application/xml"), 401)
    assert_problem(api.get("/orders?cursor=%00"), 401)


HUGE = "9" * 5000


@pytest.mark.parametrize(
    "method, path, document",
    [
        ("POST", "/auth/register", '{"email": "a@example.test", "name": "A", "password": %s}'),
        ("POST", "/auth/tokens", '{"email": "a@example.test", "password": %s}'),
        ("PATCH", "/me", '{"name": %s}'),
        ("POST", "/orders", '{"lines": [{"listing_id": "x", "quantity": %s}]}'),
        ("POST", "/sellers", '{"name": "S", "deep": [[[%s]]]}'),
    ],
)
def test_a_5000_digit_integer_anywhere_in_a_body_is_a_400(
    api: Api, method: str, path: str, document: str
) -> None:
    user = api.user()
    response = api.request(
        method, path, data=document % HUGE, content_type="application/json", as_=user
    )
    assert_problem(response, 400, "json_number_too_long")
