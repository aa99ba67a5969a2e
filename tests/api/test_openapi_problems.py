"""The served OpenAPI document lists the problems the request machinery answers, as problem+json."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient


def _operations(
    client: FlaskClient,
) -> tuple[dict[str, Any], list[tuple[str, str, dict[str, Any]]]]:
    document = client.get("/api/v1/openapi.json").get_json()
    operations = [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
    ]
    return document, operations


def _resolve(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    return document["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def test_every_operation_documents_the_problems_its_request_can_meet(client: FlaskClient) -> None:
    _document, operations = _operations(client)
    missing = []
    for method, path, operation in operations:
        responses = operation["responses"]
        expected = set()
        if operation.get("security"):
            expected.add("401")
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected |= {"400", "413", "415", "422"}
        missing += [f"{method.upper()} {path} {status}" for status in expected - set(responses)]
    assert not missing


def test_every_documented_error_is_problem_json(client: FlaskClient) -> None:
    document, operations = _operations(client)
    for method, path, operation in operations:
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                content = _resolve(document, response)["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)


def test_operations_that_answer_anonymous_callers_say_the_token_is_optional(
    client: FlaskClient,
) -> None:
    """A fuzzer expects a 401 wherever a bearer is required; the paperwork answers 404 instead,
    and carts (whose id is the capability) answer anonymous holders."""
    _document, operations = _operations(client)
    for method, path, operation in operations:
        security = operation.get("security")
        if not security:
            continue
        body = {"json": {}} if "requestBody" in operation else {}
        response = client.open(
            path.replace("{", "").replace("}", ""), method=method.upper(), **body
        )
        if {} in security and path.startswith("/api/v1/shipments/"):
            assert response.status_code == 404, (method, path, response.status_code)
        elif {} in security:
            assert response.status_code != 401, (method, path, response.status_code)
        else:
            assert response.status_code == 401, (method, path, response.status_code)


def test_the_manifest_documents_both_of_its_formats(client: FlaskClient) -> None:
    document = _operations(client)[0]
    ok = document["paths"]["/api/v1/brokerages/{brokerage_id}/manifest"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv"}
