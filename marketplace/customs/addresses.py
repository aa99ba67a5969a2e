"""Which address fields a parcel needs to reach its destination, from `data/addresses/`.

Carriers and customs differ: China declares the consignee's telephone, the United States wants a
state and ZIP code, and the CN 23 form itself asks for the importer's telephone. The rules are
data with their sources; this module only reads them and names what an address lacks.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from marketplace.errors import Invalid
from marketplace.i18n import _

FIELDS_FILE = Path(__file__).resolve().parent / "data" / "addresses" / "address-fields.json"
ADDRESS_FIELDS = (
    "name",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "email",
)


class AddressIncomplete(Invalid):
    code = "address_incomplete"
    default_detail = _("The address lacks fields this destination needs.")


@functools.cache
def _rules() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIELDS_FILE.read_text(encoding="utf-8"))
    return data


def required_fields(country: str, *, cn23: bool = False) -> tuple[str, ...]:
    """The fields an address in `country` must fill, in address order; `cn23` adds the form's."""
    rules = _rules()
    wanted = set(rules["default"]["fields"])
    wanted.update(rules["countries"].get(country, {}).get("fields", ()))
    if cn23:
        wanted.update(rules["forms"]["CN23"]["fields"])
    return tuple(name for name in ADDRESS_FIELDS if name in wanted)


def missing_fields(address: Mapping[str, Any], *, cn23: bool = False) -> list[str]:
    """The required fields that are absent or blank (an address without a country lacks it)."""
    country = str(address.get("country") or "")
    return [
        name
        for name in required_fields(country, cn23=cn23)
        if not str(address.get(name) or "").strip()
    ]


def missing_field_message(country: str) -> str:
    """The per-field message of a missing field, also used for a cart's problems."""
    return str(_("Parcels to %(country)s need this field.", country=country))


def require_complete(
    address: Mapping[str, Any], *, cn23: bool = False, prefix: str = "ship_to"
) -> None:
    """A 422 naming every missing field (`ship_to.phone`), with the whole list in `required`."""
    missing = missing_fields(address, cn23=cn23)
    if missing:
        country = str(address.get("country") or "")
        raise AddressIncomplete(
            errors={f"{prefix}.{name}": [missing_field_message(country)] for name in missing},
            extra={"required": list(required_fields(country, cn23=cn23)), "missing": missing},
        )
