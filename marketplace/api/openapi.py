"""The served OpenAPI document made exact in one place, for fuzzers and client generators.

flask-smorest builds the document from the schemas; what it cannot say by itself is added here:
a stable `operationId` per operation (from its method and path, so it changes only when the
path does), the `locale` query parameter every operation honours, the codes each documented
problem may carry (the request machinery's, and the domain errors the view declares with
`raises`), `CountryCode` and `CurrencyCode` as named components, no `default: null` (which
generators read as "required"), a map's size limits as `minProperties`/`maxProperties`, and that
no string, in or out, holds a NUL character.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from http import HTTPStatus
from typing import Any, TypeVar

from apispec import APISpec, BasePlugin

from marketplace.api.context import TokenScope
from marketplace.api.problems import PROBLEM_TYPE
from marketplace.api.schemas import HS_CODE_PATTERN, LOCALE_PATTERN
from marketplace.countries import COUNTRIES
from marketplace.errors import DomainError
from marketplace.money.currencies import known_currencies
from marketplace.pagination import InvalidCursor

F = TypeVar("F", bound=Callable[..., Any])
# A domain error class, or a generic one raised with a code of its own: `(Conflict, "last_owner")`.
Raised = type[DomainError] | tuple[type[DomainError], str]
# Where `raises` leaves its declarations in the operation until `exact_document` spreads them.
_RAISES = "x-raises"

# What the request machinery itself answers, by status, whatever the operation.
MACHINE_CODES: dict[str, list[str]] = {
    "400": ["malformed_request", "body_required", "json_too_deep", "json_number_too_long"],
    "401": ["unauthorized", "invalid_token"],
    "404": ["not_found"],
    "405": ["method_not_allowed"],
    "413": ["request_too_large"],
    "414": ["uri_too_long"],
    "415": ["unsupported_media_type"],
    "422": ["invalid"],
    "429": ["rate_limited"],
}
# Query parameters any operation takes (locale negotiation happens before the view).
GLOBAL_QUERY = {
    "locale": {
        "in": "query",
        "name": "locale",
        "required": False,
        "description": "BCP 47 tag of the language for messages and texts; wins over "
        "Accept-Language",
        "schema": {"type": "string", "maxLength": 35, "pattern": LOCALE_PATTERN},
    }
}
NO_NUL = "^[^\\u0000]*$"
# Path parameters whose syntax is checked (the rest are ids: anything else is a 404).
PATH_PATTERNS = {
    ("/api/v1/hs-codes/{code}", "code"): HS_CODE_PATTERN,
    ("/api/v1/listings/{listing_id}/translations/{locale}", "locale"): LOCALE_PATTERN,
}
_STATUS_NAMES = {str(status.value): status.name for status in HTTPStatus}
_WORD = re.compile(r"[^a-z0-9]+")


def raises(*errors: Raised) -> Callable[[F], F]:
    """Declare the domain errors a view answers: each problem response of its operation then lists
    their codes (`x-problem-codes` and its description), beside the request machinery's.

    The declaration sits on the view, above or below flask-smorest's decorators; the test suite
    checks it against every problem the view answers (`tests/error_codes.py`).
    """

    def mark(view: F) -> F:
        manual = view.__dict__.setdefault("_apidoc", {}).setdefault("manual_doc", {})
        declared: dict[str, list[str]] = manual.setdefault(_RAISES, {})
        for error in errors:
            kind, code = error if isinstance(error, tuple) else (error, error.code)
            codes = declared.setdefault(str(kind.status), [])
            if code not in codes:
                codes.append(code)
        return view

    return mark


def problem_codes(operation: dict[str, Any], status: str) -> list[str]:
    """The codes a problem response of the operation may carry, as the document lists them."""
    response = operation.get("responses", {}).get(status, {})
    codes: list[str] = response.get("x-problem-codes", MACHINE_CODES.get(status, []))
    return codes


def _spread_codes(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """Every problem response of the operation lists its codes; a declared status is documented."""
    declared: dict[str, list[str]] = operation.pop(_RAISES, {})
    if "cursor" in query_names(operation):  # every paged list (`PageArgsSchema`)
        declared.setdefault("422", []).append(InvalidCursor.code)
    if operation.get("security"):  # an order token outside its order's calls
        declared.setdefault("403", []).append(TokenScope.code)
    responses = operation.setdefault("responses", {})
    for status in declared:
        if status not in responses:
            responses[status] = {
                "description": HTTPStatus(int(status)).phrase,
                "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
    for status, response in responses.items():
        if status == "default" or int(status) < 400:
            continue
        codes = list(MACHINE_CODES.get(status, []))
        codes += [code for code in declared.get(status, []) if code not in codes]
        if "$ref" in response:
            if not declared.get(status):
                continue  # the shared response lists the machine codes already
            shared = components[response["$ref"].rsplit("/", 1)[1]]
            response.clear()
            response.update(copy.deepcopy(shared))
        if not codes:
            continue
        response["x-problem-codes"] = codes
        listed = ", ".join(f"`{code}`" for code in codes)
        response["description"] = f"{response.get('description', '')}. Codes: {listed}".lstrip(". ")


def operation_id(method: str, path: str) -> str:
    """`GET /api/v1/orders/{order_id}/payments` -> `get_orders_by_order_id_payments`."""
    words = [method.lower()]
    for segment in path.removeprefix("/api/v1").strip("/").split("/"):
        if segment.startswith("{"):
            words += ["by", segment.strip("{}")]
        elif segment:
            words.append(_WORD.sub("_", segment.lower()).strip("_"))
    return "_".join(word for word in words if word)


def query_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}


class ExactOperations(BasePlugin):
    """operationId and the global query parameters, on every operation."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            operation.setdefault("operationId", operation_id(method, path or ""))
            declared = query_names(operation)
            for name, parameter in GLOBAL_QUERY.items():
                if name not in declared:
                    operation.setdefault("parameters", []).append(dict(parameter))


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _multipart_bodies(document: dict[str, Any]) -> set[str]:
    """The names of the schemas of multipart/form-data request bodies."""
    names = set()
    for item in document.get("paths", {}).values():
        for operation in item.values():
            body = operation.get("requestBody", {}) if isinstance(operation, dict) else {}
            ref = body.get("content", {}).get("multipart/form-data", {}).get("schema", {})
            if "$ref" in ref:
                names.add(ref["$ref"].rsplit("/", 1)[1])
    return names


def exact_document(document: dict[str, Any]) -> dict[str, Any]:
    """The final touches on the whole document (see the module docstring)."""
    named = {
        "CountryCode": sorted(COUNTRIES),
        "CurrencyCode": sorted(known_currencies()),
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for path, item in document.get("paths", {}).items():
        for parameter in item.get("parameters", []):
            pattern = PATH_PATTERNS.get((path, parameter.get("name")))
            if pattern and parameter.get("in") == "path":
                parameter["schema"]["pattern"] = pattern
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if method != "parameters" else []:
                # A query parameter is absent or a string, never null.
                schema = parameter.get("schema", {})
                schema.pop("nullable", None)
                if "enum" in schema:
                    schema["enum"] = [value for value in schema["enum"] if value is not None]
    for node in list(_walk(document)):
        for branch in node.get("anyOf", []):
            if branch == {"type": "object", "nullable": True}:
                # apispec's "or null" of a nullable nested object: as written it admits any object.
                branch["enum"] = [None]
        if node.get("default", 0) is None:
            del node["default"]
        if node.get("format") == "url":  # marshmallow's name; JSON Schema's is "uri"
            node["format"] = "uri"
        if node.get("type") == "object":
            # apispec writes a Length on a Dict as a string's, which no validator reads on an object.
            for length, size in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
                if length in node:
                    node[size] = node.pop(length)
        for name, values in named.items():
            enum = node.get("enum")
            if node.get("type") == "string" and enum and [v for v in enum if v] == values:
                extra = {
                    k: v for k, v in node.items() if k in ("description", "example", "nullable")
                }
                node.clear()
                node.update({"allOf": [{"$ref": f"#/components/schemas/{name}"}], **extra})
        if (
            node.get("type") == "string"
            and "pattern" not in node
            and "enum" not in node
            and "format" not in node
        ):
            node["pattern"] = NO_NUL
    for name in _multipart_bodies(document):
        # A form field is absent or a string: it cannot be null.
        for field in schemas[name].get("properties", {}).values():
            field.pop("nullable", None)
    schemas["CountryCode"] = {
        "type": "string",
        "description": "ISO 3166-1 alpha-2 country code",
        "enum": named["CountryCode"],
        "example": "KZ",
    }
    schemas["CurrencyCode"] = {
        "type": "string",
        "description": "Active ISO 4217 currency code",
        "enum": named["CurrencyCode"],
        "example": "KZT",
    }
    responses = document["components"].get("responses", {})
    for name, response in responses.items():
        status = next((s for s, n in _STATUS_NAMES.items() if n == name), None)
        if status in MACHINE_CODES:
            response["x-problem-codes"] = MACHINE_CODES[status]
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method != "parameters":
                _spread_codes(operation, responses)
    return document


def make_exact(spec: APISpec) -> None:
    """Route the document flask-smorest serves through `exact_document`."""
    to_dict: Callable[[], dict[str, Any]] = spec.to_dict
    # A copy: apispec hands out its own dictionaries.
    spec.to_dict = lambda: exact_document(copy.deepcopy(to_dict()))  # type: ignore[method-assign]
