"""The audit of the document's error codes: every problem a test sees must be listed on its operation.

Loaded by `tests/conftest.py`. Each problem+json answer of a documented operation (any app, any
test, the test client or a server in a thread) is recorded as (operation, status, code); after
each test, an answer whose code the served document does not list on that operation's response
for that status makes the test fail at teardown, naming them. So a view that starts answering a
new code fails the tests that meet it until it declares the error (`openapi.raises`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, request, request_finished

from marketplace.api.openapi import problem_codes
from marketplace.api.problems import PROBLEM_TYPE

_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_documents: dict[str, dict[str, Any]] = {}
_seen: list[str] = []


def _document(app: Flask) -> dict[str, Any] | None:
    """The served document (the same for every app of the suite: built once)."""
    api = app.extensions.get("marketplace", {}).get("api")
    if api is None:
        return None
    if "document" not in _documents:
        _documents["document"] = api.spec.to_dict()
    return _documents["document"]


def undocumented(
    document: dict[str, Any], method: str, path: str, status: int, code: str
) -> str | None:
    """Why (method, path) answering `status` with `code` breaks the document, or None."""
    operation = document["paths"].get(path, {}).get(method.lower())
    if operation is None:
        return None  # not an operation of the API (the document page, test-only routes)
    if str(status) not in operation["responses"]:
        return f"{method} {path} answered {status} ({code}), a status it does not document"
    if code not in problem_codes(operation, str(status)):
        return f"{method} {path} answered {status} `{code}`, not listed for that status"
    return None


def _record(sender: Flask, response: Response, **_: Any) -> None:
    if response.mimetype != PROBLEM_TYPE or request.url_rule is None:
        return
    if request.method in ("HEAD", "OPTIONS") or response.status_code == 500:
        return  # a 500 is a failure of its own, never a documented answer
    document = _document(sender)
    if document is None:
        return
    try:
        code = json.loads(response.get_data())["code"]
    except (ValueError, KeyError, TypeError):
        code = "(no code)"
    path = _CONVERTER.sub(r"{\1}", request.url_rule.rule)
    problem = undocumented(document, request.method, path, response.status_code, code)
    if problem:
        _seen.append(problem)


request_finished.connect(_record)


@pytest.fixture(autouse=True)
def _problems_are_documented() -> Iterator[None]:
    del _seen[:]
    yield
    problems = sorted(set(_seen))
    del _seen[:]
    if problems:
        pytest.fail(
            "Undocumented error codes (declare them with openapi.raises on the view):\n"
            + "\n".join(problems),
            pytrace=False,
        )
