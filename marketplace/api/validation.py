"""Localizing marshmallow's built-in English validation messages.

marshmallow formats its messages before we see them, so each known template is matched back by
pattern and rendered again through gettext in the request's locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marketplace.i18n import N_, gettext

_EXACT = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid UUID."),
    N_("Invalid input type."),
    N_("Invalid value."),
    N_("Invalid JSON body."),
    N_("String does not match expected pattern."),
    N_("Not a valid country code."),
    N_("Not a valid currency code."),
    N_("Not a valid language tag."),
    N_("Not a valid EORI number."),
    N_("The end of validity is before its start."),
    N_("Give 1 to 50 listing_id:quantity pairs."),
    N_("Each line is listing_id:quantity, e.g. abc:2."),
    N_("Quantities are 1 to 1000."),
)

_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"^Longer than maximum length (\d+)\.$"),
        lambda m: gettext("Longer than maximum length %(max)s.", max=m[1]),
    ),
    (
        re.compile(r"^Shorter than minimum length (\d+)\.$"),
        lambda m: gettext("Shorter than minimum length %(min)s.", min=m[1]),
    ),
    (
        re.compile(r"^Length must be between (\d+) and (\d+)\.$"),
        lambda m: gettext("Length must be between %(min)s and %(max)s.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
        lambda m: gettext("Must be between %(min)s and %(max)s.", min=m[1], max=m[2]),
    ),
    (
        re.compile(r"^Must be greater than or equal to (\S+)\.$"),
        lambda m: gettext("Must be at least %(min)s.", min=m[1]),
    ),
    (
        re.compile(r"^Must be less than or equal to (\S+)\.$"),
        lambda m: gettext("Must be at most %(max)s.", max=m[1]),
    ),
    (
        re.compile(r"^Must be one of: (.*)\.$"),
        lambda m: gettext("Must be one of: %(choices)s.", choices=m[1]),
    ),
)


def localize(message: Any) -> str:
    text = str(message)
    if text in _EXACT:
        return gettext(text)
    for pattern, render in _PATTERNS:
        match = pattern.match(text)
        if match:
            return render(match)
    return text
