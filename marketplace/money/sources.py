"""Rate sources behind one small interface: the ECB's daily XML (file or URL) and operator entry.

A source only reads and validates; storing the rates (and deciding what is current) is the
service's job, so every source is checked by the same rules before anything is written.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Protocol
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from marketplace.errors import Invalid
from marketplace.i18n import _
from marketplace.money.models import SourceKind

ECB_DAILY_URL = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
_ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
# The daily file is about 2 KB; the full history about 6 MB. Anything larger is not a rate file.
MAX_FILE_BYTES = 8 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 20
_CODE = re.compile(r"[A-Z]{3}")
_RATE = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,12})?")


class RateFileInvalid(Invalid):
    code = "rate_file_invalid"
    default_detail = _("The file is not an ECB reference-rate XML file.")


@dataclass(frozen=True)
class IncomingRates:
    """Rates as a source delivers them, before they are stored as a set."""

    base: str
    as_of: dt.date
    source: SourceKind
    rates: Mapping[str, Decimal]
    origin: str = ""
    created_by: str | None = field(default=None)


class RateSource(Protocol):
    """Anything that can deliver one set of rates (the ECB file, an operator's form, the demo)."""

    def fetch(self) -> IncomingRates: ...


def parse_rate(text: str) -> Decimal | None:
    """A rate written as a plain positive decimal with at most 12 decimals, else None."""
    if not isinstance(text, str) or _RATE.fullmatch(text) is None:
        return None
    value = Decimal(text)
    return value if value > 0 else None


def http_get(url: str) -> bytes:
    """GET an http(s) URL, refusing other schemes and bodies larger than a rate file can be."""
    if not url.lower().startswith(("https://", "http://")):
        raise RateFileInvalid(_("Only http and https addresses can be fetched."))
    request = urllib.request.Request(url, headers={"User-Agent": "silk-road-marketplace rates"})  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            body: bytes = response.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise RateFileInvalid(
            _("The rate file could not be downloaded: %(reason)s", reason=str(exc))
        ) from exc
    return body


@dataclass(frozen=True)
class EcbXml:
    """The ECB euro reference rates (eurofxref-daily.xml) from a file path or an http(s) URL."""

    location: str
    get: Callable[[str], bytes] = http_get

    def fetch(self) -> IncomingRates:
        if "://" in self.location:
            data = self.get(self.location)
        else:
            path = Path(self.location)
            if not path.is_file():
                raise RateFileInvalid(_("No such file: %(path)s", path=self.location))
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        return parse_ecb_xml(data, origin=self.location)


def parse_ecb_xml(data: bytes, *, origin: str = "") -> IncomingRates:
    """Read the ECB's XML safely: DTDs, entities and external references are refused, not expanded.

    For a file with several days (the history files) the newest day is taken.
    """
    if len(data) > MAX_FILE_BYTES:
        raise RateFileInvalid(_("The rate file is larger than any ECB rate file."))
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise RateFileInvalid(
            _("The rate file declares a DTD or entities; such XML is refused, not expanded."),
            extra={"reason": type(exc).__name__},
        ) from exc
    except (ParseError, ValueError) as exc:
        raise RateFileInvalid(_("The rate file is not well-formed XML.")) from exc
    days = [cube for cube in root.iter(f"{_ECB_NS}Cube") if cube.get("time") is not None]
    if not days:
        raise RateFileInvalid()
    dated = [(_day(cube), cube) for cube in days]
    as_of, newest = max(dated, key=lambda item: item[0])
    return IncomingRates(
        base="EUR", as_of=as_of, source=SourceKind.ECB, rates=_day_rates(newest), origin=origin
    )


def _day(cube: Element) -> dt.date:
    try:
        return dt.date.fromisoformat(cube.get("time", ""))
    except ValueError:
        raise RateFileInvalid(_("The rate file has a day that is not a date.")) from None


def _day_rates(cube: Element) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for entry in cube.iter(f"{_ECB_NS}Cube"):
        if entry is cube:
            continue
        code, text = entry.get("currency", ""), entry.get("rate", "")
        rate = parse_rate(text)
        if _CODE.fullmatch(code) is None or rate is None or code in rates or code == "EUR":
            raise RateFileInvalid(
                _(
                    "The rate file has an invalid entry: %(entry)s %(rate)s",
                    entry=code[:10],
                    rate=text[:30],
                )
            )
        rates[code] = rate
    if not rates:
        raise RateFileInvalid()
    return rates
