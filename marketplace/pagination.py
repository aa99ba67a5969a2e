"""Keyset pagination for every list: opaque cursors holding the sort key of the last item served.

A cursor names the list (and sort) it was made for, so one from another list or sort is refused;
every refusal is the same 422 `cursor_invalid` naming the `cursor` field. Pages are fetched with
`limit + 1` rows, the extra one only telling whether there is a next page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from marketplace.errors import Invalid
from marketplace.i18n import _

T = TypeVar("T")


class InvalidCursor(Invalid):
    code = "cursor_invalid"
    default_detail = _("This cursor is not valid for this request; start again without it.")

    def __init__(self) -> None:
        super().__init__(errors={"cursor": [self.default_detail]})


def encode(kind: str, values: Sequence[Any]) -> str:
    raw = json.dumps([kind, *values], separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str, kind: str, types: tuple[type, ...]) -> list[Any]:
    """The values of a cursor made by `encode(kind, ...)` (each of its type or None)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(data, list) or len(data) != len(types) + 1 or data[0] != kind:
        raise InvalidCursor()
    values = data[1:]
    for value, expected in zip(values, types, strict=True):
        if not (value is None or (isinstance(value, expected) and not isinstance(value, bool))):
            raise InvalidCursor()
    return values


def decode_moment(cursor: str, kind: str) -> tuple[dt.datetime, str]:
    """A (timestamp, id) cursor, as the lists sorted by creation time make them."""
    created, row_id = decode(cursor, kind, (str, str))
    if created is None or row_id is None:
        raise InvalidCursor()
    try:
        moment = dt.datetime.fromisoformat(created)
    except ValueError:
        raise InvalidCursor() from None
    if moment.tzinfo is None:
        raise InvalidCursor()
    return moment, row_id


def encode_moment(kind: str, created_at: dt.datetime, row_id: str) -> str:
    return encode(kind, [created_at.isoformat(), row_id])


def page(
    rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """The first `limit` of `rows` (fetched with `limit + 1`) and the cursor after them, if any."""
    if len(rows) <= limit:
        return list(rows), None
    kept = list(rows[:limit])
    return kept, cursor_of(kept[-1])
