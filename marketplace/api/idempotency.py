"""`@idempotent`: honour the Idempotency-Key header on a POST view (docs/api-conventions.md, "Idempotency").

Place it under `@context.user_required` (or `user_optional`) and above flask-smorest's `arguments`/`response`, so it
sees the finished response:

    @blp.route("/orders", methods=["POST"])
    @context.user_required
    @idempotent
    @blp.arguments(OrderCreateSchema)
    @blp.response(201, OrderSchema)
    def place_order(body): ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, json, make_response, request

from marketplace.api import context
from marketplace.api.openapi import raises
from marketplace.db import utcnow
from marketplace.errors import Invalid
from marketplace.orders import idempotency

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"

F = TypeVar("F", bound=Callable[..., Any])


def idempotent(view: F) -> F:
    """Same key and body: the first response again; same key, other body: 409; no key: as usual."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        session = context.db()
        body = request.get_json(silent=True)
        if body is None:
            body = request.get_data(as_text=True)
        user = context.current_user()
        outcome = idempotency.claim(
            session,
            # Anonymous callers (a guest completing a cart) are told apart by the path they hold.
            caller=user.id if user is not None else f"anon:{request.path}"[:64],
            key=key,
            fingerprint=idempotency.fingerprint(request.method, request.path, body),
            now=utcnow(),
        )
        if isinstance(outcome, idempotency.StoredResponse):
            replay = Response(
                json.dumps(outcome.body), status=outcome.status, mimetype="application/json"
            )
            replay.headers[REPLAY_HEADER] = "true"
            return replay
        response = make_response(view(*args, **kwargs))
        idempotency.complete(session, outcome, response.status_code, response.get_json())
        return response

    apidoc = wrapper.__dict__.setdefault("_apidoc", {})
    manual = apidoc.setdefault("manual_doc", {})
    manual.setdefault("parameters", []).append(
        {
            "in": "header",
            "name": HEADER,
            "required": False,
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": idempotency.MAX_KEY_LENGTH,
                "pattern": "^[!-~]+$",
            },
            "description": "Retry safely: the same key and body return the first response (kept "
            "at least 24 hours); the same key with another body is a 409.",
        }
    )
    return raises(
        idempotency.IdempotencyKeyReused,
        idempotency.IdempotencyKeyInUse,
        (Invalid, "idempotency_key_invalid"),
    )(wrapper)  # type: ignore[return-value]
