"""Every endpoint that takes a JSON body answers bad bodies with problem+json and changes nothing.

The endpoints are read from the application's own URL map and their documented request schemas, so
an endpoint added later is covered without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.db import Base
from tests.helpers import Api, Caller

SOME_ID = "00000000-0000-0000-0000-000000000000"


def _json_schema(app: Flask, endpoint: str, method: str) -> ma.Schema | None:
    """The marshmallow schema a view loads its JSON body with, or None when it takes no JSON body."""
    view = app.view_functions[endpoint]
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, method.lower(), None)
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "json":
            schema = parameter["schema"]
            return schema() if isinstance(schema, type) else schema
    return None


def json_endpoints(app: Flask) -> Iterator[tuple[str, str, ma.Schema]]:
    """(method, path with placeholder ids, schema) for every API view that reads a JSON body."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            schema = _json_schema(app, rule.endpoint, method)
            if schema is not None:
                path = rule.rule.removeprefix("/api/v1")
                for argument in rule.arguments:
                    path = path.replace(f"<{argument}>", "fr" if argument == "locale" else SOME_ID)
                yield method, path, schema


def string_paths(schema: ma.Schema, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths to every string field of a body, nested objects included."""
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        key = (*prefix, field.data_key or name)
        if (
            isinstance(field, ma.fields.Nested)
            and isinstance(field.schema, ma.Schema)
            and not field.many
        ):
            yield from string_paths(field.schema, key)
        elif isinstance(field, ma.fields.String):
            yield key


def body_with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    node = body
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    if path[-1] == "amount":  # a money amount is checked against its currency's minor units
        node["currency"] = "EUR"
    return body


def row_counts(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture
def caller(api: Api) -> Caller:
    return api.user("Mallory")


def test_every_json_endpoint_is_found(app: Flask) -> None:
    found = {(method, path) for method, path, _schema in json_endpoints(app)}
    assert ("POST", "/orders") in found and ("PUT", f"/listings/{SOME_ID}/translations/fr") in found
    assert len(found) >= 20


def test_malformed_json_wrong_type_unknown_fields_and_huge_bodies_change_nothing(
    app: Flask, api: Api, caller: Caller, session: Session
) -> None:
    before = row_counts(session)
    limit = app.config["MAX_CONTENT_LENGTH"]
    wrong: list[str] = []
    for method, path, schema in json_endpoints(app):
        unknown = [{"zz_unknown": 1}] if schema.many else {"zz_unknown": 1}
        cases: list[tuple[str, int, dict[str, Any]]] = [
            ("malformed JSON", 400, {"data": "{not json", "content_type": "application/json"}),
            ("wrong content type", 415, {"data": '{"a": 1}', "content_type": "text/plain"}),
            (
                "oversized body",
                413,
                {
                    "data": b'{"a": "' + b"x" * (limit + 1) + b'"}',
                    "content_type": "application/json",
                },
            ),
            ("not an object", 422, {"json": 42}),
            ("unknown field", 422, {"json": unknown}),
        ]
        for case, status, kwargs in cases:
            response = api.request(method, path, as_=caller, **kwargs)
            body = response.get_json(silent=True) or {}
            ok = (
                response.status_code == status
                and response.mimetype == "application/problem+json"
                and body.get("code")
                and body.get("title")
                and body.get("detail")
            )
            if ok and case == "unknown field":
                ok = any("zz_unknown" in key for key in body.get("errors") or {})
            if not ok:
                wrong.append(
                    f"{method} {path}: {case} -> {response.status_code} {body.get('code')}"
                )
    assert wrong == []
    assert row_counts(session) == before


def test_over_long_strings_are_refused_field_by_field(
    api: Api, app: Flask, caller: Caller, session: Session
) -> None:
    before = row_counts(session)
    accepted: list[str] = []
    for method, path, schema in json_endpoints(app):
        for field_path in string_paths(schema):
            body: Any = body_with(field_path, "x" * 100_000)
            response = api.request(method, path, as_=caller, json=[body] if schema.many else body)
            problem = response.get_json(silent=True) or {}
            dotted = ".".join(field_path)
            named = any(key.endswith(dotted) for key in problem.get("errors") or {})
            if (
                response.status_code != 422
                or response.mimetype != "application/problem+json"
                or not named
            ):
                accepted.append(
                    f"{method} {path} {dotted} -> {response.status_code} {problem.get('errors')}"
                )
    assert not accepted, "\n".join(accepted)
    assert row_counts(session) == before


def test_half_an_amount_in_a_patch_is_a_422_not_a_crash(api: Api, caller: Caller) -> None:
    response = api.patch(f"/listings/{SOME_ID}", json={"price": {"amount": "1.00"}}, as_=caller)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["errors"] == {"price.currency": ["Missing data for required field."]}
