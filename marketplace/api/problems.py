"""RFC 9457 problem+json responses: the one shape every error takes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flask import Response, json

from marketplace.api.validation import localize
from marketplace.i18n import _, current_locale

PROBLEM_TYPE = "application/problem+json"

TITLES: dict[int, Any] = {
    400: _("Bad request"),
    401: _("Unauthorized"),
    403: _("Forbidden"),
    404: _("Not found"),
    405: _("Method not allowed"),
    406: _("Not acceptable"),
    409: _("Conflict"),
    412: _("Precondition failed"),
    413: _("Request too large"),
    414: _("URI too long"),
    415: _("Unsupported media type"),
    422: _("Unprocessable content"),
    429: _("Too many requests"),
    500: _("Internal server error"),
    502: _("Bad gateway"),
    503: _("Service unavailable"),
}

DETAILS: dict[int, Any] = {
    400: _("The request body is malformed."),
    401: _("A valid bearer token is required."),
    403: _("You are not allowed to do this."),
    404: _("The requested resource does not exist."),
    405: _("This method is not allowed on this resource."),
    406: _("The requested representation is not available."),
    409: _("The request conflicts with the current state."),
    412: _("A precondition of the request failed."),
    413: _("The request body is larger than allowed."),
    414: _("The request URL is longer than allowed."),
    415: _("This content type is not accepted here."),
    422: _("Some fields are invalid."),
    429: _("Too many requests: slow down and try again later."),
    500: _("Something went wrong on our side. It has been logged."),
    502: _("An outside service did not answer as expected."),
    503: _("The service is temporarily unavailable."),
}

CODES: dict[int, str] = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


def problem(
    status: int,
    *,
    code: str | None = None,
    detail: Any = None,
    errors: Mapping[str, Sequence[Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build a localized problem+json response; lazy messages render in the request's locale."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(TITLES.get(status, HTTPStatus(status).phrase)),
        "status": status,
        "detail": str(detail if detail is not None else DETAILS.get(status, "")),
        "code": code or CODES.get(status, "error"),
    }
    if errors:
        body["errors"] = {
            field: [localize(message) for message in messages] for field, messages in errors.items()
        }
    if extra:
        body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)
    response.headers["Content-Language"] = current_locale()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as {"field.path": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "body"
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        flat.setdefault(prefix or "body", []).extend(messages)
    elif isinstance(messages, list | tuple):
        for index, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat.setdefault(prefix or "body", []).append(str(messages))
    return flat
