"""The served OpenAPI document says exactly what the API does, as a generator or fuzzer needs."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers import Api, assert_problem


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return body


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]


def _nodes(node: Any) -> list[dict[str, Any]]:
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def test_every_operation_has_a_unique_stable_operation_id(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _m, _p, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    orders = document["paths"]["/api/v1/orders/{order_id}/payments"]
    assert orders["get"]["operationId"] == "get_orders_by_order_id_payments"


def test_no_optional_input_is_typed_required_by_a_null_default(document: dict[str, Any]) -> None:
    assert not [node for node in _nodes(document) if "default" in node and node["default"] is None]


def test_countries_and_currencies_are_named_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert "KZ" in schemas["CountryCode"]["enum"] and "KZT" in schemas["CurrencyCode"]["enum"]
    address = schemas["Address"]["properties"]["country"]
    assert address["allOf"] == [{"$ref": "#/components/schemas/CountryCode"}]
    # No copy of the long lists anywhere else.
    lists = [n for n in _nodes(document) if n.get("enum") == schemas["CountryCode"]["enum"]]
    assert len(lists) == 1


def test_problem_extension_members_are_declared(document: dict[str, Any]) -> None:
    members = document["components"]["schemas"]["Problem"]["properties"]
    assert {"lines", "limit", "rows", "error_count", "accepted", "refundable"} <= set(members)


def test_machine_problem_codes_and_rate_limits_are_documented(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    assert "json_number_too_long" in responses["BAD_REQUEST"]["x-problem-codes"]
    for path in ("/api/v1/auth/tokens", "/api/v1/auth/register"):
        assert "429" in document["paths"][path]["post"]["responses"]


def test_binary_answers_declare_their_content_types(document: dict[str, Any]) -> None:
    paths = document["paths"]
    pdf = paths["/api/v1/shipments/{shipment_id}/documents/{kind}"]["get"]["responses"]["200"]
    assert set(pdf["content"]) == {"application/pdf"}
    zipped = paths["/api/v1/shipments/{shipment_id}/documents.zip"]["get"]["responses"]["200"]
    assert set(zipped["content"]) == {"application/zip"}


def test_syntax_the_api_checks_is_in_the_document(document: dict[str, Any]) -> None:
    paths = document["paths"]
    hs = paths["/api/v1/hs-codes/{code}"]["parameters"][0]["schema"]
    assert hs["pattern"].startswith("^[0-9]")
    landed = {p["name"]: p for p in paths["/api/v1/landed-cost"]["get"]["parameters"]}
    assert ":" in landed["lines"]["schema"]["pattern"]
    orders = {p["name"]: p for p in paths["/api/v1/orders"]["get"]["parameters"]}
    assert orders["cursor"]["schema"]["pattern"] == "^[A-Za-z0-9_-]{1,512}$"
    assert document["components"]["schemas"]["Order"]["properties"]["status"]["enum"]


@pytest.mark.parametrize(
    "path", ["/currencies?bogus=1", "/catalogue?colour=red", "/orders?status=paid&x=1"]
)
def test_an_unknown_query_parameter_is_a_422_like_an_unknown_body_field(
    api: Api, path: str
) -> None:
    body = assert_problem(api.get(path, as_=api.user()), 422, "invalid")
    assert set(body["errors"]) <= {"bogus", "colour", "status", "x"} and body["errors"]


def test_locale_is_a_query_parameter_of_every_operation(document: dict[str, Any], api: Api) -> None:
    for _method, _path, operation in _operations(document):
        assert "locale" in {p["name"] for p in operation.get("parameters", [])}
    assert api.get("/currencies?locale=ru").status_code == 200
    assert_problem(api.get("/currencies?locale=z%12"), 422, "invalid")


def test_allow_names_only_documented_methods(api: Api, document: dict[str, Any]) -> None:
    response = api.delete("/currencies")
    assert response.status_code == 405
    documented = {method.upper() for method in document["paths"]["/api/v1/currencies"]}
    assert set(response.headers["Allow"].split(", ")) == documented


def test_a_browser_client_may_read_the_headers_it_needs(api: Api) -> None:
    response = api.get("/currencies", headers={"Origin": "https://shop.example"})
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Idempotent-Replayed", "Content-Disposition"} <= exposed
