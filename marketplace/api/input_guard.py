"""Input no schema can refuse in time: NUL bytes, unpaired surrogates, JSON nested too deeply,
integers too long to convert.

PostgreSQL refuses U+0000 in text and no database can store a lone surrogate, so either would
surface as a 500 at flush time (or be stored on SQLite and not on PostgreSQL). Nesting deep
enough to exhaust Python's recursion limit would crash the JSON decoder itself, and an integer
of more than 4300 digits makes it raise where no view expects it (converting one costs quadratic
time anyway). One check at the edge, before any view runs, answers all of them the same way on
every endpoint and database.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Response, request

from marketplace.api.problems import problem
from marketplace.i18n import _

MAX_JSON_DEPTH = 32
# No field takes an integer anywhere near this long; a longer literal is refused before conversion.
MAX_JSON_INTEGER_DIGITS = 100
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
FORBIDDEN_CHARACTER = _("Contains a character that is not allowed (NUL or an unpaired surrogate).")


def _bad(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def _walk(document: Any) -> Iterator[tuple[str, Any, int]]:
    """Every (path, value, depth) of a parsed JSON document, without recursion."""
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else str(key)
                yield child_path, str(key), depth + 1
                stack.append((child_path, child, depth + 1))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                stack.append((f"{path}.{index}" if path else str(index), child, depth + 1))


class _IntegerTooLong(ValueError):
    pass


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_JSON_INTEGER_DIGITS:
        raise _IntegerTooLong(literal[:20])
    return int(literal)


def _too_deep() -> Response:
    return problem(
        400,
        code="json_too_deep",
        detail=_("The JSON body is nested more than %(depth)s levels deep.", depth=MAX_JSON_DEPTH),
    )


def check_request() -> Response | None:
    """A problem for input that must not reach a view, or None to let the request through."""
    if any(_bad(str(value)) for value in (request.view_args or {}).values()):
        return problem(404)
    bad_args = sorted(
        {key for key, value in request.args.items(multi=True) if _bad(key) or _bad(value)}
    )
    if bad_args:
        return problem(422, errors={key: [FORBIDDEN_CHARACTER] for key in bad_args})
    if not request.is_json or not request.content_length:
        return None
    try:
        document = json.loads(request.get_data(cache=True), parse_int=_bounded_int)
    except RecursionError:
        return _too_deep()
    except _IntegerTooLong:
        return problem(
            400,
            code="json_number_too_long",
            detail=_(
                "The JSON body holds an integer longer than %(digits)s digits.",
                digits=MAX_JSON_INTEGER_DIGITS,
            ),
        )
    except ValueError:
        return None  # malformed JSON: the view's parser answers its 400
    errors: dict[str, list[Any]] = {}
    for path, value, depth in _walk(document):
        if depth > MAX_JSON_DEPTH:
            return _too_deep()
        if isinstance(value, str) and _bad(value):
            errors.setdefault(path or "body", [FORBIDDEN_CHARACTER])
    return problem(422, errors=errors) if errors else None
