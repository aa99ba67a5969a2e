"""The one place that touches flask.g and current_app: the request's session, caller and settings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.db import READS, utcnow
from marketplace.errors import Forbidden, NotFound, Unauthorized
from marketplace.i18n import _

F = TypeVar("F", bound=Callable[..., Any])


def extension(name: str) -> Any:
    return current_app.extensions["marketplace"][name]


def settings() -> dict[str, Any]:
    return current_app.config["MARKETPLACE"]


def db() -> Session:
    """The request's session, opened on first use; committed when the view succeeds.

    A GET or HEAD is expected to read: on SQLite its transaction is deferred, so it never waits
    for a writer (the app retries it as a writer should it have to write and be refused). A view
    marked `without_transaction` runs its statements in autocommit instead.
    """
    if "db" not in g:
        session = extension("session_factory")()
        if request.method in ("GET", "HEAD") and not g.get("db_writes"):
            if getattr(view_for_request(), _WITHOUT_TRANSACTION, False) and isinstance(
                session.get_bind(), Engine
            ):
                session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            else:
                session.connection(execution_options={READS: True})
        g.db = session
    found: Session = g.db
    return found


_WITHOUT_TRANSACTION = "_reads_without_transaction"


def without_transaction(view: F) -> F:
    """Mark a view whose GET only reads, each statement consistent on its own: it runs without
    BEGIN and COMMIT, which double a one-statement page's round trips to the database and add
    two to a priced cart's three. Whatever such a view still writes commits as it is flushed.
    Only where the session works on an engine of its own (a test's session shares a connection
    already in a transaction, and keeps it)."""
    setattr(view, _WITHOUT_TRANSACTION, True)
    return view


def view_for_request() -> Any:
    """The function that answers this request: the view, or its method of a MethodView."""
    view = current_app.view_functions.get(request.endpoint or "")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return getattr(view_class, request.method.lower(), None)
    return view


def retry_as_writer() -> None:
    """Drop the request's session and caller, so that the view runs again in a write transaction."""
    session: Session | None = g.pop("db", None)
    if session is not None:
        session.rollback()
        session.close()
    g.pop("user", None)
    g.db_writes = True


def close_session(error: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is not None:
        if error is not None:
            session.rollback()
        session.close()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_user() -> User | None:
    """The authenticated caller, or None; a token that is present but bad is a 401."""
    if "user" not in g:
        token = bearer_token()
        if token is None:
            if request.headers.get("Authorization"):
                raise Unauthorized(code="invalid_token")
            g.user = None
        else:
            bearer = accounts.authenticate(db(), token, utcnow())
            if bearer is None:
                raise Unauthorized(code="invalid_token")
            if bearer.order_id is not None:
                _require_in_scope(bearer.order_id)
            g.user = bearer.user
    found: User | None = g.user
    return found


# What a token scoped to one order may call: that order and its payments (reading, and paying
# it: a guest must be able to finish the checkout), and the shipments and documents of its
# buyer (a guest's user has no other order). Each entry names the methods and the path
# parameter that must be the token's order, if any.
_READ = frozenset({"GET", "HEAD"})
ORDER_TOKEN_CALLS: dict[str, tuple[frozenset[str], str | None]] = {
    "orders.get_order": (_READ, "order_id"),
    "payments.OrderPayments": (_READ | {"POST"}, "order_id"),
    "orders.list_shipments": (_READ, None),
    "orders.get_shipment": (_READ, None),
    "customs_documents.list_documents": (_READ, None),
    "customs_documents.get_document": (_READ, None),
    "customs_documents.documents_zip": (_READ, None),
    "accounts.revoke_token": (frozenset({"DELETE"}), None),  # like any token, it may end itself
}


class TokenScope(Forbidden):
    code = "token_scope"
    default_detail = _("This token reaches only the order it was issued for.")


def _require_in_scope(order_id: str) -> None:
    """403 `token_scope` outside an order token's calls; another order is a 404, as for anyone."""
    methods, name = ORDER_TOKEN_CALLS.get(request.endpoint or "", (frozenset(), None))
    if request.method not in methods:
        raise TokenScope()
    if name is not None and (request.view_args or {}).get(name) != order_id:
        raise NotFound()


def require_user() -> User:
    user = current_user()
    if user is None:
        raise Unauthorized()
    return user


def user_required(view: F) -> F:
    """Refuse anonymous callers before the body is even parsed, and document the bearer scheme.

    Place it directly under the route decorator, above flask-smorest's arguments/response.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_user()
        return view(*args, **kwargs)

    apidoc = wrapper.__dict__.setdefault("_apidoc", {})
    apidoc.setdefault("manual_doc", {})["security"] = [{"bearer": []}]
    return wrapper  # type: ignore[return-value]


def user_optional(view: F) -> F:
    """Anonymous calls are answered too; a bearer token, when one is sent, is checked first (a
    bad one is a 401) and names the caller. Documented as optional bearer security."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_user()
        return view(*args, **kwargs)

    apidoc = wrapper.__dict__.setdefault("_apidoc", {})
    apidoc.setdefault("manual_doc", {})["security"] = [{"bearer": []}, {}]
    return wrapper  # type: ignore[return-value]


def current_token_hash() -> str:
    token = bearer_token()
    assert token is not None
    return accounts.hash_token(token)
