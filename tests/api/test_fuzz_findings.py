"""Requests schemathesis generated from the served document that the API refused: each is now
either accepted or no longer described as valid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask.testing import FlaskClient

from tests.factories import Market
from tests.helpers import Api, assert_problem


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


def _document(client: FlaskClient) -> dict[str, Any]:
    document: dict[str, Any] = client.get("/api/v1/openapi.json").get_json()
    return document


def test_the_locale_parameter_is_taken_by_operations_with_their_own_query(api: Api) -> None:
    """`?locale=` is declared on every operation; two query schemas refused it as unknown."""
    methods = api.get("/payment-methods?locale=ru&currency=EUR")
    assert methods.status_code == 200, methods.get_json()
    assert methods.headers["Content-Language"] == "ru"
    buyer = api.user()
    orders = api.get("/orders?locale=kk&status=paid", as_=buyer)
    assert orders.status_code == 200, orders.get_json()
    assert orders.get_json() == {"items": [], "next_cursor": None}
    assert_problem(api.get("/payment-methods?locale=ru&colour=red"), 422, "invalid")


def test_a_nullable_nested_object_admits_null_not_any_object(
    client: FlaskClient, api: Api, current_rates: str
) -> None:
    """`ship_to` was `anyOf: [{type: object, nullable}, ShipTo]`: any object matched the first."""
    document = _document(client)
    ship_to = document["components"]["schemas"]["CartIn"]["properties"]["ship_to"]
    assert {"type": "object", "nullable": True, "enum": [None]} in ship_to["anyOf"]
    for node in _objects(document):
        for branch in node.get("anyOf", []):
            if branch.get("nullable") and "$ref" not in branch:
                assert branch.get("enum") == [None], node
    refused = api.post("/carts", json={"ship_to": {"planet": 1}, "incoterm": "DDP"})
    assert set(assert_problem(refused, 422, "invalid")["errors"]) >= {
        "ship_to.planet",
        "ship_to.line1",
    }
    created = api.post("/carts", json={"ship_to": None, "incoterm": "DDP"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["ship_to"] is None


def test_form_fields_are_never_described_as_nullable(client: FlaskClient, api: Api) -> None:
    """A form cannot send null: the fuzzer sent the text "null" as the image's locale."""
    upload = _document(client)["components"]["schemas"]["ImageUpload"]["properties"]
    assert not [name for name, field in upload.items() if field.get("nullable")]
    assert not re.match(upload["locale"]["pattern"], "null")
    seller = api.user()
    refused = api.post(
        "/listings/00000000-0000-0000-0000-000000000000/images",
        data={"locale": "null"},
        content_type="multipart/form-data",
        as_=seller,
    )
    assert_problem(refused, 422, "invalid")


def test_what_the_api_checks_of_syntax_the_document_says(client: FlaskClient, api: Api) -> None:
    document = _document(client)
    schemas = document["components"]["schemas"]
    parameters = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/catalogue"]["get"]["parameters"]
    }
    facets = parameters["facets"]["pattern"]
    assert re.match(facets, "category,price") and not re.match(facets, "colour")
    assert_problem(api.get("/catalogue?facets=colour"), 422, "invalid")
    lines = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/landed-cost"]["get"]["parameters"]
    }["lines"]["pattern"]
    assert "\\s" not in lines and not re.match(lines, "a\x1fb:1") and re.match(lines, "ab-1:2")
    assert schemas["Rule"]["properties"]["countries"]["minProperties"] == 1
    destinations = schemas["ShippingRateRow"]["properties"]["countries"]["items"]["enum"]
    assert "*" in destinations and "KZ" in destinations and "XX" not in destinations
    amount = schemas["MoneyInput"]["properties"]["amount"]["pattern"]
    assert re.match(amount, "0") and not re.match(amount, "-1.00")
    positive = schemas["PositiveMoneyInput"]["properties"]["amount"]["pattern"]
    assert re.match(positive, "0.01") and not re.match(positive, "0.00")
    listing = document["paths"]["/api/v1/listings"]["post"]["requestBody"]["content"]
    price = schemas[listing["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert price["properties"]["price"]["$ref"].endswith("/PositiveMoneyInput")


def test_a_maps_size_limit_is_stated_as_its_number_of_properties(
    client: FlaskClient, market: Market
) -> None:
    """apispec wrote a Dict's Length as `maxLength`, which no validator reads on an object: the
    document let a variant name six option axes, which the API refuses."""
    document = _document(client)
    for node in _objects(document):
        if node.get("type") == "object":
            assert not {"minLength", "maxLength"} & set(node), node
    schemas = document["components"]["schemas"]
    assert schemas["VariantIn"]["properties"]["options"]["maxProperties"] == 5
    assert schemas["TranslationBody"]["properties"]["options"]["maxProperties"] == 5
    assert schemas["OptionText"]["properties"]["values"]["maxProperties"] == 100
    assert schemas["Rule"]["properties"]["countries"]["minProperties"] == 1
    six = {f"axis{n}": "x" for n in range(6)}
    refused = market.api.put(
        f"/listings/{market.tea}/variants",
        json=[{"sku": "TEA-6", "options": six, "stock": 1}],
        as_=market.tea_owner,
    )
    assert "0.options" in assert_problem(refused, 422, "invalid")["errors"]


def test_an_empty_option_name_is_a_422_naming_the_field(market: Market) -> None:
    """The fuzzer's `{"options": {"": "..."}}`: an axis name is a word, a rule OpenAPI 3.0 cannot
    state of a map's keys (excluded from positive data acceptance for this operation only)."""
    refused = market.api.put(
        f"/listings/{market.tea}/variants",
        json=[{"sku": "TEA-X", "options": {"": "large"}, "stock": 1}],
        as_=market.tea_owner,
    )
    errors = assert_problem(refused, 422, "invalid")["errors"]
    assert errors and all(path.startswith("0.options.") for path in errors), errors
