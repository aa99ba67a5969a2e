"""Opaque keyset cursors: the sort key of the last item served, and the sort it belongs to."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

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
