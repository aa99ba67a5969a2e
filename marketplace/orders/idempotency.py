"""Idempotency keys stored in the database, so a retried POST is applied once across workers.

Usage, inside the same transaction as the work (the HTTP decorator in marketplace/api/idempotency.py
does exactly this for any view):

    outcome = claim(session, caller=user.id, key=key, fingerprint=fingerprint(...), now=now)
    if isinstance(outcome, StoredResponse):
        return outcome                     # the first request's answer, replayed
    ... do the work ...
    complete(session, outcome, 201, body)  # committed together with the work

Only successful responses are stored: a failed request rolls back its claim together with
everything else, so retrying it is safe and does the work afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.errors import Conflict, Invalid
from marketplace.i18n import _
from marketplace.orders.models import IdempotencyKey

# The API promises at least 24 hours (docs/api-conventions.md); a little more covers clients retrying across a day boundary.
DEFAULT_TTL = dt.timedelta(hours=25)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """What the first request with this key answered."""

    status: int
    body: Any


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_detail = _("This Idempotency-Key was already used for a different request.")


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    default_detail = _(
        "A request with this Idempotency-Key is still being processed; retry shortly."
    )


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 of the method, path and body, with JSON key order and spacing not counting."""
    canonical = json.dumps(
        [method.upper(), path, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def validate_key(key: str) -> str:
    """Printable ASCII, 1 to 255 characters (a UUID is the usual choice)."""
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(" " < ch <= "~" for ch in key):
        message = _("An Idempotency-Key is 1 to 255 printable characters without spaces.")
        raise Invalid(
            message, code="idempotency_key_invalid", errors={"Idempotency-Key": [message]}
        )
    return key


def claim(
    session: Session,
    *,
    caller: str,
    key: str,
    fingerprint: str,
    now: dt.datetime,
    ttl: dt.timedelta = DEFAULT_TTL,
) -> IdempotencyKey | StoredResponse:
    """Claim the key for this request, or get the response stored by the request that had it first.

    On PostgreSQL a concurrent request with the same key blocks on the unique index until the
    first commits, then finds its stored response; if the first rolled back, it proceeds itself.
    """
    validate_key(key)
    for _attempt in range(2):
        existing = _find(session, caller, key)
        if existing is not None and existing.expires_at <= now:
            session.delete(existing)
            session.flush()
            existing = None
        if existing is not None:
            return _replay(existing, fingerprint)
        record = IdempotencyKey(
            caller=caller, key=key, fingerprint=fingerprint, created_at=now, expires_at=now + ttl
        )
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
        except IntegrityError:
            continue  # another request with this key committed first: replay its answer
        return record
    raise IdempotencyKeyInUse()


def complete(session: Session, record: IdempotencyKey, status: int, body: Any) -> None:
    """Store the response of the claimed request, in the same transaction as its work."""
    record.status_code = status
    record.response = body
    session.flush()


def purge_expired(session: Session, now: dt.datetime) -> int:
    """Delete keys past their retention; returns how many (run by `flask orders expire`)."""
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= now),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _find(session: Session, caller: str, key: str) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey)
        .where(IdempotencyKey.caller == caller, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )


def _replay(existing: IdempotencyKey, fingerprint: str) -> StoredResponse:
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    if existing.status_code is None:
        raise IdempotencyKeyInUse()
    return StoredResponse(status=existing.status_code, body=existing.response)
