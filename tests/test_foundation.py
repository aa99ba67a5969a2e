"""HTTP conventions every endpoint shares: problems, headers, locale, docs, health, limits."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from config import ConfigurationError, load_settings
from marketplace import create_app
from tests.helpers import Api, assert_problem


def test_healthz_checks_the_database(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_problem_when_the_database_is_unreachable() -> None:
    app = create_app({"APP_ENV": "test", "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/healthz")
    assert_problem(response, 503, "database_unavailable")


def test_openapi_document_is_valid_openapi_3(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert "/api/v1/auth/register" in document["paths"]
    problem_response = document["components"]["responses"]["DEFAULT_ERROR"]
    assert "application/problem+json" in problem_response["content"]


def test_docs_page_and_its_assets_are_served_locally(client: FlaskClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    script = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.data) > 100_000


def test_unknown_path_is_a_problem_404(api: Api) -> None:
    assert_problem(api.get("/no-such-thing"), 404, "not_found")


def test_wrong_method_is_a_problem_405_with_allow(api: Api) -> None:
    response = api.delete("/auth/register")
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_a_problem_400(api: Api) -> None:
    response = api.post("/auth/register", data="{not json", content_type="application/json")
    assert_problem(response, 400, "malformed_request")


def test_wrong_content_type_is_a_problem_415(api: Api) -> None:
    response = api.post(
        "/auth/register", data="email=a@b.c", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_oversized_body_is_a_problem_413(api: Api) -> None:
    response = api.post(
        "/auth/register",
        data='{"name": "' + "x" * (2 * 1024 * 1024) + '"}',
        content_type="application/json",
    )
    assert_problem(response, 413, "request_too_large")


def test_unknown_and_missing_fields_are_listed_per_field(api: Api) -> None:
    response = api.post("/auth/register", json={"email": "a@example.test", "colour": "red"})
    body = assert_problem(response, 422, "invalid")
    assert body["errors"]["colour"] == ["Unknown field."]
    assert body["errors"]["password"] == ["Missing data for required field."]
    assert body["errors"]["name"] == ["Missing data for required field."]


def test_an_unexpected_error_is_a_problem_500_without_internals(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert body["detail"]


def test_request_id_is_echoed_or_made(client: FlaskClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers[
        "X-Request-ID"
    ]
    assert made and " " not in made


def test_security_headers_are_set(client: FlaskClient) -> None:
    headers = client.get("/healthz").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_cors_allows_only_configured_origins(app_settings: dict, session_factory) -> None:
    app = create_app(
        {**app_settings, "CORS_ORIGINS": "https://shop.example"}, session_factory=session_factory
    )
    client = app.test_client()
    allowed = client.get("/api/v1/brokerages", headers={"Origin": "https://shop.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    other = client.get("/api/v1/brokerages", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize(
    ("query", "accept", "expected", "title"),
    [
        ("", "", "en", "Not found"),
        ("?locale=ru", "", "ru", "Не найдено"),
        ("", "zh-CN,zh;q=0.9", "zh-Hans", "未找到"),
        ("", "de;q=1.0, ar;q=0.8, ru;q=0.5", "ar", "غير موجود"),
        ("?locale=tr", "ru", "tr", "Bulunamadı"),
        ("", "kk-KZ", "kk", "Табылмады"),
    ],
)
def test_errors_are_in_the_negotiated_locale(
    api: Api, query: str, accept: str, expected: str, title: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = api.get(f"/sellers/00000000-0000-0000-0000-000000000000{query}", headers=headers)
    body = assert_problem(response, 404)
    assert response.headers["Content-Language"] == expected
    assert "Accept-Language" in response.headers["Vary"]
    assert body["title"] == title


def test_field_messages_are_localized(api: Api) -> None:
    response = api.post("/auth/register?locale=ru", json={"email": "a@example.test"})
    body = assert_problem(response, 422)
    assert body["errors"]["password"] == ["Обязательное поле."]


def test_production_refuses_to_start_without_secrets() -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings({"APP_ENV": "production", "DATABASE_URL": "postgresql://x/y"})
    message = str(error.value)
    assert "SECRET_KEY" in message and "STRIPE_API_KEY" in message and "DATABASE_URL" not in message
    # Several workers on several machines: rate limits must be shared.
    assert "REDIS_URL" in message


def test_environment_overrides_defaults_with_types() -> None:
    settings = load_settings({"TOKEN_TTL": "60", "CORS_ORIGINS": "https://a.example"})
    assert settings["TOKEN_TTL"] == 60 and settings["CORS_ORIGINS"] == "https://a.example"
    with pytest.raises(ConfigurationError):
        load_settings({"TOKEN_TTL": "soon"})


def test_a_required_json_body_that_is_missing_is_a_400(api: Api) -> None:
    caller = api.user()
    assert_problem(api.patch("/me", as_=caller), 400, "body_required")
    assert_problem(api.post("/auth/register"), 400, "body_required")


def test_an_over_long_url_is_a_problem_414(api: Api) -> None:
    assert_problem(api.get("/brokerages?country=" + "K" * 20_000), 414, "uri_too_long")


def test_problem_extension_members_are_documented_as_allowed(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["schemas"]["Problem"].get("additionalProperties") is not False
