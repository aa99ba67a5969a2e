"""The HTTP layer: flask-smorest Api, request lifecycle hooks and problem+json error handling."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import swagger_ui_bundle
from apispec import BasePlugin
from flask import Flask, Response, g, request, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import HTTPException

from marketplace import i18n
from marketplace.api import context, input_guard, openapi
from marketplace.api.problems import PROBLEM_TYPE, flatten_messages, problem
from marketplace.api.schemas import LOCALE_PATTERN, ProblemSchema
from marketplace.errors import DomainError
from marketplace.i18n import _

log = logging.getLogger("marketplace.api")

API_PREFIX = "/api/v1"
JSON_TYPES = frozenset({"application/json"})
MAX_QUERY_STRING = 16 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

F = TypeVar("F", bound=Callable[..., Any])


def accepts(*mimetypes: str) -> Callable[[F], F]:
    """Declare the body types a view takes (JSON by default); anything else is a 415."""

    def mark(view: F) -> F:
        view._accepts = frozenset(mimetypes)  # type: ignore[attr-defined]
        return view

    return mark


class ProblemResponses(BasePlugin):
    """Document the problems the request machinery answers on every operation it applies to.

    An over-long query string answers 414, `user_required` 401, a path id that matches nothing
    404, a body of the wrong type 415, a malformed, missing, too large or too deeply nested body
    400/413, and any query or body field it refuses 422; views declare their own domain errors
    with `openapi.raises`.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **_: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            # Any request line may carry a query string over MAX_QUERY_STRING.
            wanted: dict[int, str] = {414: "REQUEST_URI_TOO_LONG"}
            if operation.get("security"):
                wanted[401] = "UNAUTHORIZED"
            if path and "{" in path:
                wanted[404] = "NOT_FOUND"
            if "requestBody" in operation:
                wanted.update(
                    {
                        400: "BAD_REQUEST",
                        413: "REQUEST_ENTITY_TOO_LARGE",
                        415: "UNSUPPORTED_MEDIA_TYPE",
                    }
                )
            if "requestBody" in operation or operation.get("parameters"):
                wanted[422] = "UNPROCESSABLE_ENTITY"
            for status, name in wanted.items():
                if status not in responses and str(status) not in responses:
                    responses[status] = name


class MarketplaceApi(Api):
    """flask-smorest's Api with every error documented and answered as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        import http

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default: dict[str, Any] = {"description": "Problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("errors") or data.get("messages")
        errors = None
        if messages:
            # webargs nests messages under the location ("json", "query"): the field path is enough.
            if isinstance(messages, dict) and set(messages) <= {
                "json",
                "query",
                "form",
                "headers",
                "files",
                "view_args",
            }:
                merged: dict[str, Any] = {}
                for value in messages.values():
                    merged.update(value if isinstance(value, dict) else {"body": value})
                messages = merged
            errors = flatten_messages(messages)
            if status == 400 and errors == {"body": ["Invalid JSON body."]}:
                errors = None
        headers = dict(data.get("headers") or {})
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            # Only the methods the document describes (Flask adds HEAD and OPTIONS everywhere).
            documented = [m for m in error.valid_methods if m not in ("HEAD", "OPTIONS")]
            headers["Allow"] = ", ".join(documented)
        if status == 429 and getattr(error, "retry_after", None):
            headers["Retry-After"] = str(error.retry_after)  # type: ignore[attr-defined]
        return problem(status, errors=errors, headers=headers)


def _handle_domain_error(error: DomainError) -> Response:
    return problem(
        error.status,
        code=error.error_code,
        detail=error.detail,
        errors=error.errors,
        extra=error.extra,
    )


def _handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        api: MarketplaceApi = context.extension("api")
        return api.handle_http_exception(error)
    log.exception("unhandled error", extra={"request_id": g.get("request_id")})
    return problem(500)


def _before_request() -> Response | None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    explicit = request.args.get("locale")
    accepted = [(tag, quality) for tag, quality in request.accept_languages]
    locale = i18n.negotiate(explicit, accepted, None)
    if locale == i18n.DEFAULT_LOCALE and not explicit and not accepted and context.bearer_token():
        try:
            user = context.current_user()
        except DomainError:
            user = None
        if user is not None:
            locale = i18n.negotiate(None, [], user.locale)
    i18n.set_locale(locale)
    g.locale = locale
    if len(request.query_string) > MAX_QUERY_STRING:
        return problem(414, code="uri_too_long")
    if _refuses_anonymous(context.view_for_request()) and not request.headers.get("Authorization"):
        return None  # the view answers 401 before it looks at the body or the query
    return _check_query() or _check_content_type() or input_guard.check_request()


def _declared_query(view: Any) -> set[str]:
    names = set(openapi.GLOBAL_QUERY)
    for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if parameter.get("in") != "query":
            continue
        schema = parameter["schema"]
        schema = schema() if isinstance(schema, type) else schema
        names |= {field.data_key or name for name, field in schema.fields.items()}
    return names


def _check_query() -> Response | None:
    """A query parameter the operation does not declare is a 422, like an unknown body field:
    a misspelt filter must not look like an empty result."""
    if request.endpoint is None or not request.args or request.method == "OPTIONS":
        return None
    view = context.view_for_request()
    if view is None:
        return None
    errors = {name: [_("Unknown field.")] for name in set(request.args) - _declared_query(view)}
    locale = request.args.get("locale")
    if locale is not None and (len(locale) > 35 or not re.match(LOCALE_PATTERN, locale)):
        errors["locale"] = [_("Not a valid language tag.")]
    return problem(422, errors=dict(sorted(errors.items()))) if errors else None


def _refuses_anonymous(view: Any) -> bool:
    return getattr(view, "_apidoc", {}).get("manual_doc", {}).get("security") == [{"bearer": []}]


def _requires_json_body(view: Any) -> bool:
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "json" and p.get("required") for p in parameters)


def _check_content_type() -> Response | None:
    """A body of the wrong type is a 415; a required JSON body that is absent is a 400."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    view = context.view_for_request()
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
    if not has_body:
        if _requires_json_body(view):
            return problem(400, code="body_required", detail=_("This request needs a JSON body."))
        return None
    endpoint_view = context.current_app.view_functions.get(request.endpoint or "")
    allowed: frozenset[str] = JSON_TYPES
    for candidate in (view, endpoint_view):
        allowed = getattr(candidate, "_accepts", None) or allowed
    if request.mimetype not in allowed:
        return problem(415, extra={"accepted": sorted(allowed)})
    return None


def _after_request(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    response.headers.setdefault("Content-Language", g.get("locale", i18n.DEFAULT_LOCALE))
    response.vary.add("Accept-Language")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-site")
    if request.path.startswith(f"{API_PREFIX}/docs"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:",
        )
    else:
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
        )
    if "Cache-Control" not in response.headers and (
        request.headers.get("Authorization") or request.method not in ("GET", "HEAD")
    ):
        # A caller's own data (or a token just issued) must not stay in a shared or browser cache.
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:  # behind a TLS proxy too: proxies.py trusts its X-Forwarded-Proto
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    return response


def _reset_locale(_error: BaseException | None) -> None:
    """A worker thread serves many callers: the next one must not inherit this one's language."""
    i18n.set_locale(i18n.DEFAULT_LOCALE)


def _swagger_assets(filename: str) -> Response:
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def init_api(app: Flask) -> MarketplaceApi:
    app.config.update(
        API_TITLE="Silk Road Marketplace",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{API_PREFIX}/docs/assets/",
        API_SPEC_OPTIONS={
            "servers": [{"url": "/"}],
            "info": {
                "description": "Cross-border marketplace API: catalogue, orders, payments, customs.",
            },
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = MarketplaceApi(
        app, spec_kwargs={"extra_plugins": [ProblemResponses(), openapi.ExactOperations()]}
    )
    openapi.make_exact(api.spec)
    app.extensions["marketplace"]["api"] = api
    app.add_url_rule(f"{API_PREFIX}/docs/assets/<path:filename>", "swagger_assets", _swagger_assets)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(context.close_session)
    app.teardown_request(_reset_locale)
    app.register_error_handler(DomainError, _handle_domain_error)
    app.register_error_handler(Exception, _handle_unexpected)

    from marketplace.api import (
        accounts,
        addresses,
        carts,
        catalogue,
        customs,
        customs_documents,
        health,
        images,
        listings,
        money,
        orders,
        payments,
        webhooks,
    )

    for module in (
        health,
        accounts,
        addresses,
        money,
        customs,
        listings,
        images,
        catalogue,
        orders,
        carts,
        payments,
        customs_documents,
        webhooks,
    ):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX if module is not health else None)
    return api
