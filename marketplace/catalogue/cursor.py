"""Opaque keyset cursors: the sort key of the last item served, and the sort it belongs to."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from marketplace.errors import Invalid
from marketplace.i18n import _


class InvalidCursor(Invalid):
    code = "cursor_invalid"
    default_detail = _("This cursor is not valid for this request; start again without it.")


def encode(kind: str, values: list[Any]) -> str:
    raw = json.dumps([kind, *values], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str, kind: str, types: tuple[type, ...]) -> list[Any]:
    """The values of a cursor made by `encode(kind, ...)`; anything else is a 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(errors={"cursor": [InvalidCursor.default_detail]}) from None
    if not isinstance(data, list) or len(data) != len(types) + 1 or data[0] != kind:
        raise InvalidCursor(errors={"cursor": [InvalidCursor.default_detail]})
    values = data[1:]
    for value, expected in zip(values, types, strict=True):
        if not (value is None or (isinstance(value, expected) and not isinstance(value, bool))):
            raise InvalidCursor(errors={"cursor": [InvalidCursor.default_detail]})
    return values


def newest_first(
    session: Session, query: Any, model: Any, limit: int, after: str | None
) -> tuple[list[Any], str | None]:
    """A page of `query` newest first by (created_at, id), for any table with both columns;
    cursors survive inserts and deletes."""
    kind = model.__tablename__
    if after:
        created, row_id = decode(after, kind, (str, str))
        try:
            moment = dt.datetime.fromisoformat(created)
        except ValueError:
            raise InvalidCursor(errors={"cursor": [InvalidCursor.default_detail]}) from None
        if moment.tzinfo is None:
            raise InvalidCursor(errors={"cursor": [InvalidCursor.default_detail]})
        query = query.where(
            or_(model.created_at < moment, and_(model.created_at == moment, model.id < row_id))
        )
    rows = list(
        session.scalars(
            query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)
        ).unique()
    )
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(kind, [rows[-1].created_at.isoformat(), rows[-1].id])
