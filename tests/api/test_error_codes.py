"""The error codes the document lists are the ones the code answers (see also tests/error_codes.py,
which checks every problem any test meets against its operation's list)."""

from __future__ import annotations

import ast
import pathlib
from typing import Any

from flask.testing import FlaskClient

import marketplace
from marketplace.api.openapi import MACHINE_CODES
from marketplace.errors import DomainError
from tests.error_codes import undocumented
from tests.helpers import Api, assert_problem

# Codes in the code that no request can meet, and why.
NOT_ANSWERED = {
    "seller_currency_missing": "a guard of the ledger: sellers are created with a currency",
    "ledger_currency_mismatch": "a guard of the ledger: sales are converted to the seller's currency first",
    "refund_exceeds_sale": "a guard of the ledger: order refunds are capped per shipment first",
    "payout_exceeds_balance": "payouts have no HTTP operation",
    "no_connected_account": "payouts have no HTTP operation",
    "rate_file_invalid": "the ECB import runs in the worker and `flask rates import`",
    "unknown_user": "`flask users grant-operator` only: invitations take any address",
    "payment_gateway_mismatch": "order refunds always use the payment's own gateway",
    "amount_invalid": "money inputs are checked by their schemas first (`invalid` naming the field)",
    "category_unknown": "listing fields are checked together: `invalid` naming `category`",
    "bad_request": "DomainError's base code: every raised error has its own",
    "conflict": "Conflict's base code: every raised conflict has its own",
    "forbidden": "Forbidden's base code: every refusal has its own",
    "variants_invalid": "VariantsInvalid's base code: every variant problem has its own",
}


def _error_classes(kind: type[DomainError] = DomainError) -> list[type[DomainError]]:
    found = [kind]
    for sub in kind.__subclasses__():
        found += _error_classes(sub)
    return found


def _codes_in_source() -> set[str]:
    """Every `code="..."` a problem is raised or built with, anywhere in the package (and the
    `code = "..."` of classes and of functions that choose one)."""
    codes = set()
    for path in pathlib.Path(marketplace.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if keyword.arg == "code" and isinstance(value, ast.Constant):
                        codes.add(str(value.value))
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and any(getattr(target, "id", None) == "code" for target in node.targets)
            ):
                codes.add(str(node.value.value))  # `code = "rate_invalid"`, then `code=code`
    return codes


def _documented(document: dict[str, Any]) -> set[str]:
    listed = set()
    for item in document["paths"].values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            for response in operation["responses"].values():
                listed |= set(response.get("x-problem-codes", []))
    for response in document["components"]["responses"].values():
        listed |= set(response.get("x-problem-codes", []))
    return listed


def test_every_code_the_code_can_answer_is_listed_on_some_operation(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    in_code = _codes_in_source() | {error.code for error in _error_classes()}
    missing = in_code - _documented(document) - set(NOT_ANSWERED)
    assert not missing, f"raised somewhere, listed nowhere: {sorted(missing)}"


def test_every_listed_code_exists_in_the_code(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    in_code = _codes_in_source() | {error.code for error in _error_classes()}
    machine = {code for codes in MACHINE_CODES.values() for code in codes}
    assert _documented(document) - in_code - machine == set()
    assert set(NOT_ANSWERED) <= in_code, "an exemption for a code that no longer exists"


def test_a_problem_response_lists_its_codes_for_clients_and_readers(client: FlaskClient) -> None:
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/orders"]["post"]
    conflict = operation["responses"]["409"]
    assert {"insufficient_stock", "rate_stale", "idempotency_key_reused"} <= set(
        conflict["x-problem-codes"]
    )
    assert "`insufficient_stock`" in conflict["description"]
    # Machine codes sit beside the declared ones.
    assert (
        conflict["x-problem-codes"]
        and "invalid" in operation["responses"]["422"]["x-problem-codes"]
    )


def test_the_audit_refuses_a_code_or_status_an_operation_does_not_list(
    client: FlaskClient, api: Api
) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert_problem(api.get("/catalogue", query_string={"cursor": "bm9wZQ"}), 422, "cursor_invalid")
    assert undocumented(document, "GET", "/api/v1/catalogue", 422, "cursor_invalid") is None
    assert "not listed" in str(
        undocumented(document, "GET", "/api/v1/catalogue", 422, "brand_new_code")
    )
    assert "does not document" in str(
        undocumented(document, "GET", "/api/v1/catalogue", 409, "insufficient_stock")
    )
