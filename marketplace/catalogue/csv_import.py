"""CSV import of listings (`POST /listings/import`), upserted by SKU, all or nothing.

The file is the `text/csv` body, or the field `file` of a `multipart/form-data` form. It is
UTF-8, with or without a byte-order mark, comma-separated with a header row.
Columns (any order; `*` = required):

- `sku`* (the seller's own code: an existing SKU updates that listing, a new one creates it),
  `title`*, `description`, `language` (BCP 47; default: the seller's locale),
  `category`* (a category slug from GET /categories), `price`* (decimal string, e.g. `12.50`)
  and `currency`* (ISO 4217), `stock`* (of the listing's one variant: a listing offering several
  is refused; empty for a listing with variant rows), `weight_grams`*, `hs_code`* (6-10 digits, dots and
  spaces allowed), `origin_country`* (ISO 3166-1 alpha-2), `ships_to`* (`*` for everywhere, or
  countries separated by spaces, commas or semicolons), `status` (`draft`, the default,
  `published` or `archived`);
- variant rows: a row with `parent_sku` (the SKU of a listing row of the same file) is a variant
  of that listing: its own `sku`* and `stock`*, a value in an `option:<axis>` column for every
  axis its siblings use (`option:size`, `option:colour`; the listing's option axes are these
  columns, in the header's order), and `price` (in the listing's currency), `weight_grams` and
  `hs_code` only where they differ from the listing's (empty: the listing's); its other cells are
  not read. A listing with variant rows offers exactly them: its variants with those SKUs are
  updated, the others marked removed;
- translations: `title:<locale>` and `description:<locale>` for any BCP 47 locale, e.g.
  `title:ru`, `description:zh-Hans`. For every locale with a column in the file, an empty title
  means "no translation in that locale" (an existing one is removed); locales without a column
  are left as they are.

Problems are reported each with its row (the header is row 1, as spreadsheets count), column and
message; if there is any, nothing is changed. The first `MAX_IMPORT_ERRORS` are listed and
`error_count` says how many there are in all. A file of more than `MAX_IMPORT_ROWS` data rows is
refused as soon as the row after the last allowed one is read (`import_too_many_rows`).

The file is read line by line from the request as it arrives, never decoded whole, and checked
with one query for categories (and, through the HS check the caller passes, one for HS
subheadings) whatever its size: the largest file allowed is answered well inside the worker
timeout.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organisation, OrganisationKind, User
from marketplace.accounts.services import organisation_ids, require_member
from marketplace.catalogue import locales, pricing, search
from marketplace.catalogue.models import (
    Category,
    Listing,
    ListingDestination,
    ListingStatus,
    ListingTranslation,
    ListingVariant,
)
from marketplace.catalogue.services import HasVariants, HsCheck, SkuTaken
from marketplace.countries import COUNTRIES
from marketplace.db import new_id, utcnow
from marketplace.errors import DomainError, Invalid, NotFound
from marketplace.i18n import _
from marketplace.money import RateTable, is_known, parse_amount

REQUIRED = (
    "sku",
    "title",
    "category",
    "price",
    "currency",
    "stock",
    "weight_grams",
    "hs_code",
    "origin_country",
    "ships_to",
)
OPTIONAL = ("description", "language", "status", "parent_sku")
# A variant row (`parent_sku` set) reads these; the other columns are its listing's.
VARIANT_COLUMNS = ("sku", "parent_sku", "stock", "price", "weight_grams", "hs_code")
TRANSLATED = ("title", "description")
MAX_INT = 1_000_000_000
_CHUNK = 500
_SPLIT = re.compile(r"[\s,;]+")


class ImportRejected(Invalid):
    code = "import_rejected"
    default_detail = _("The file was not imported: fix the rows listed and send it again.")


@dataclass(frozen=True)
class ImportLimits:
    rows: int
    errors: int


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rows: int = 0


@dataclass
class _Row:
    number: int
    values: dict[str, Any]
    ships_to: list[str]
    translations: dict[str, tuple[str, str]] = field(default_factory=dict)
    variants: list[_VariantRow] = field(default_factory=list)  # rows naming it as parent_sku
    axes: list[str] = field(default_factory=list)


@dataclass
class _VariantRow:
    number: int
    parent: str
    values: dict[str, Any]  # sku, stock, weight_grams, hs_code, options; price_minor once known
    price: str  # parsed in the parent's currency


def import_csv(
    session: Session,
    user: User,
    data: IO[bytes],
    *,
    seller_id: str | None,
    rates: RateTable | None,
    hs_check: HsCheck,
    limits: ImportLimits,
) -> ImportResult:
    """Validate the whole file, then create or update every row's listing; raises ImportRejected."""
    seller = _seller(session, user, seller_id)
    reader = _reader(data)
    header = [name.strip() for name in (reader.fieldnames or [])]
    translation_locales = _check_header(header, limits)
    rows, problems = _parse(session, reader, header, translation_locales, seller, hs_check, limits)
    if problems:
        raise _rejected(problems, limits.errors)
    taken = _skus_of_other_listings(session, seller, rows)
    if taken:
        raise _rejected(taken, limits.errors)
    return _write(session, seller, rows, translation_locales, rates)


def _skus_of_other_listings(
    session: Session, seller: Organisation, rows: list[_Row]
) -> list[RowError]:
    """Variant SKUs are unique per seller: a row whose variant SKU (a new listing's default
    variant takes the listing's) belongs to a variant of another listing is refused."""
    wanted: dict[str, tuple[int, str]] = {}  # variant sku -> (row, listing sku)
    for row in rows:
        for variant in row.variants:
            wanted[variant.values["sku"]] = (variant.number, row.values["sku"])
        if not row.variants:
            wanted[row.values["sku"]] = (row.number, row.values["sku"])
    problems: list[RowError] = []
    for chunk in _chunks(list(wanted)):
        for variant_sku, listing_sku in session.execute(
            select(ListingVariant.sku, Listing.sku)
            .join(Listing, Listing.id == ListingVariant.listing_id)
            .where(ListingVariant.seller_id == seller.id, ListingVariant.sku.in_(chunk))
        ):
            number, owner = wanted[variant_sku]
            if owner != listing_sku:
                problems.append(RowError(number, "sku", str(SkuTaken.default_detail)))
    return sorted(problems, key=lambda problem: problem.row)


def _seller(session: Session, user: User, seller_id: str | None) -> Organisation:
    if seller_id is not None:
        return require_member(session, user, seller_id, OrganisationKind.SELLER)
    ids = organisation_ids(session, user.id, OrganisationKind.SELLER)
    if not ids:
        raise NotFound()
    if len(ids) > 1:
        message = _("You belong to several sellers: say which with ?seller_id=.")
        raise Invalid(message, code="seller_required", errors={"seller_id": [message]})
    return require_member(session, user, ids[0], OrganisationKind.SELLER)


def _lines(data: IO[bytes]) -> Iterator[str]:
    """The file's text line by line, refusing bytes that are not UTF-8 and NUL characters.

    Split on the newline byte, which never occurs inside a multi-byte UTF-8 sequence, so each
    line decodes alone and a problem's byte position is exact.
    """
    buffered = io.BufferedReader(data, buffer_size=64 * 1024)  # type: ignore[type-var]
    try:
        yield from _checked(buffered)
    finally:
        buffered.detach()  # the request's stream is not ours to close


def _checked(buffered: Iterable[bytes]) -> Iterator[str]:
    offset = 0
    for raw in buffered:
        line = raw[3:] if offset == 0 and raw.startswith(b"\xef\xbb\xbf") else raw
        skipped = len(raw) - len(line)
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = _(
                "The file is not UTF-8 text (byte %(position)s).",
                position=offset + skipped + exc.start,
            )
            raise ImportRejected(message, code="csv_not_utf8") from None
        if b"\x00" in line:
            # PostgreSQL cannot store NUL in text, and no spreadsheet writes one: refuse the file.
            message = _(
                "The file contains a NUL character (byte %(position)s).",
                position=offset + skipped + line.find(b"\x00"),
            )
            raise ImportRejected(message, code="csv_nul_byte")
        offset += len(raw)
        yield text


def _reader(data: IO[bytes]) -> csv.DictReader[str]:
    lines = _lines(data)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise ImportRejected(_("The file is empty."), code="csv_empty")

    def again() -> Iterator[str]:
        yield first
        yield from lines

    return csv.DictReader(again(), restval=None, restkey="\x00extra")


def _rejected(problems: Iterable[RowError], listed_at_most: int | None = None) -> ImportRejected:
    every = list(problems)
    listed = every if listed_at_most is None else every[:listed_at_most]
    return ImportRejected(
        errors={f"rows.{p.row}.{p.column}": [p.message] for p in listed},
        extra={
            "rows": [{"row": p.row, "column": p.column, "message": p.message} for p in listed],
            "error_count": len(every),
        },
    )


def _check_header(header: list[str], limits: ImportLimits) -> list[str]:
    """The translation locales the header names; a bad header rejects the file at once."""
    problems: list[RowError] = []
    seen: set[str] = set()
    found: list[str] = []
    for name in header:
        if name in seen:
            problems.append(RowError(1, name, str(_("This column appears twice."))))
        seen.add(name)
        base, _sep, tag = name.partition(":")
        if base == "option" and tag:
            if len(tag) > 100:
                problems.append(RowError(1, name, str(_("Unknown column."))))
        elif tag:
            if base not in TRANSLATED or not locales.is_tag(tag):
                problems.append(RowError(1, name, str(_("Unknown column."))))
            elif locales.canonical(tag) not in found:
                found.append(locales.canonical(tag))
        elif name not in REQUIRED and name not in OPTIONAL:
            problems.append(RowError(1, name, str(_("Unknown column."))))
    for name in REQUIRED:
        if name not in seen:
            problems.append(RowError(1, name, str(_("This required column is missing."))))
    if problems:
        raise _rejected(problems, limits.errors)
    return found


def _parse(
    session: Session,
    reader: csv.DictReader[str],
    header: list[str],
    translation_locales: list[str],
    seller: Organisation,
    hs_check: HsCheck,
    limits: ImportLimits,
) -> tuple[list[_Row], list[RowError]]:
    category_slugs = set(session.scalars(select(Category.slug)))
    hs_codes = _HsMemo(hs_check)
    skus: dict[str, int] = {}
    rows: list[_Row] = []
    variants: list[_VariantRow] = []
    problems: list[RowError] = []
    for number, raw in _records(reader):
        if number - 1 > limits.rows:
            message = _(
                "The file has more than %(rows)s rows: split it into several files.",
                rows=limits.rows,
            )
            raise ImportRejected(message, code="import_too_many_rows")
        if raw.get("\x00extra"):
            problems.append(
                RowError(number, "", str(_("This row has more cells than the header.")))
            )
            continue
        cells = {key.strip(): (value or "").strip() for key, value in raw.items() if key}
        if cells.get("parent_sku"):
            variant, row_problems = _parse_variant_row(session, number, cells, hs_codes)
            problems.extend(row_problems)
            if variant is not None:
                variants.append(variant)
            row = None
        else:
            row, row_problems = _parse_row(
                session, number, cells, translation_locales, seller, category_slugs, hs_codes
            )
            problems.extend(row_problems)
        sku = cells.get("sku", "")
        if sku and sku in skus:
            message = _("SKU already used on row %(row)s of this file.", row=skus[sku])
            problems.append(RowError(number, "sku", str(message)))
        skus.setdefault(sku, number)
        if row is not None:
            rows.append(row)
    problems.extend(
        _attach_variants(rows, variants, [n for n in header if n.startswith("option:")])
    )
    problems.sort(key=lambda problem: problem.row)
    return rows, problems


def _parse_variant_row(
    session: Session, number: int, cells: dict[str, str], hs_codes: _HsMemo
) -> tuple[_VariantRow | None, list[RowError]]:
    """A variant of the listing row whose SKU is in `parent_sku`: its own SKU and stock, options
    in `option:<axis>` columns, and price, weight and HS code where they differ (else empty)."""
    problems: list[RowError] = []

    def fail(column: str, message: Any) -> None:
        problems.append(RowError(number, column, str(message)))

    values: dict[str, Any] = {}
    sku = cells.get("sku", "")
    if not sku:
        fail("sku", _("Missing data for required field."))
    elif len(sku) > 64:
        fail("sku", _("Longer than maximum length %(max)s.", max=64))
    values["sku"] = sku
    values["stock"] = _whole(cells.get("stock", ""), 0, fail, "stock")
    weight = cells.get("weight_grams", "")
    values["weight_grams"] = _whole(weight, 1, fail, "weight_grams") if weight else None
    values["hs_code"] = None
    if cells.get("hs_code"):
        values["hs_code"] = hs_codes(session, cells["hs_code"])
        if values["hs_code"] is None:
            fail(
                "hs_code",
                _("Not a valid HS 2022 code (6 to 10 digits, the first six a subheading)."),
            )
    options: dict[str, str] = {}
    for key, value in cells.items():
        if key.startswith("option:") and value:
            if len(value) > 100:
                fail(key, _("Longer than maximum length %(max)s.", max=100))
            options[key.removeprefix("option:")] = value
    values["options"] = options
    if problems:
        return None, problems
    return _VariantRow(number, cells["parent_sku"], values, cells.get("price", "")), []


def _whole(cell: str, low: int, fail: Any, column: str) -> int | None:
    if not (cell.isascii() and cell.isdigit()) or not low <= int(cell) <= MAX_INT:
        fail(column, _("Must be a whole number between %(min)s and %(max)s.", min=low, max=MAX_INT))
        return None
    return int(cell)


def _attach_variants(
    rows: list[_Row], variants: list[_VariantRow], option_columns: list[str]
) -> list[RowError]:
    """Give each listing row its variant rows: the parent must be a listing row of the file, each
    variant gives a value for every axis its siblings use, no two the same combination; a
    listing row without variant rows needs its `stock`."""
    problems: list[RowError] = []
    by_sku = {row.values["sku"]: row for row in rows if "sku" in row.values}
    for variant in variants:
        parent = by_sku.get(variant.parent)
        if parent is None:
            message = _("parent_sku must be the SKU of a listing row of this file.")
            problems.append(RowError(variant.number, "parent_sku", str(message)))
            continue
        try:
            price = variant.price and parse_amount(
                variant.price, parent.values["currency"], allow_zero=False
            )
            variant.values["price_minor"] = price.minor if price else None
        except DomainError as exc:
            problems.append(RowError(variant.number, "price", str(exc.detail)))
        parent.variants.append(variant)
    for row in rows:
        if not row.variants:
            if row.values.get("stock") is None:
                message = _("Missing data for required field.")
                problems.append(RowError(row.number, "stock", str(message)))
            continue
        used = {axis for variant in row.variants for axis in variant.values["options"]}
        row.axes = [
            c.removeprefix("option:") for c in option_columns if c.removeprefix("option:") in used
        ]
        seen: dict[tuple[str, ...], int] = {}
        for variant in row.variants:
            options = variant.values["options"]
            missing = [axis for axis in row.axes if axis not in options]
            combination = tuple(options.get(axis, "") for axis in row.axes)
            if missing:
                message = _("A value is missing for: %(axes)s.", axes=", ".join(missing))
                problems.append(RowError(variant.number, f"option:{missing[0]}", str(message)))
            elif combination in seen:
                message = _("Same options as row %(row)s.", row=seen[combination])
                problems.append(RowError(variant.number, "parent_sku", str(message)))
            seen.setdefault(combination, variant.number)
    return problems


def _records(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 1
    try:
        for raw in reader:
            number += 1
            yield number, raw
    except csv.Error as exc:
        raise _rejected(
            [RowError(number + 1, "", str(_("Malformed CSV: %(error)s", error=str(exc))))]
        ) from None


def _parse_row(
    session: Session,
    number: int,
    cells: dict[str, str],
    translation_locales: list[str],
    seller: Organisation,
    category_slugs: set[str],
    hs_codes: _HsMemo,
) -> tuple[_Row | None, list[RowError]]:
    problems: list[RowError] = []

    def fail(column: str, message: Any) -> None:
        problems.append(RowError(number, column, str(message)))

    values: dict[str, Any] = {}
    for name in ("sku", "title"):
        limit = 64 if name == "sku" else 200
        if not cells.get(name):
            fail(name, _("Missing data for required field."))
        elif len(cells[name]) > limit:
            fail(name, _("Longer than maximum length %(max)s.", max=limit))
        else:
            values[name] = cells[name]
    values["description"] = cells.get("description", "")
    if len(values["description"]) > 20_000:
        fail("description", _("Longer than maximum length %(max)s.", max=20_000))
    language = cells.get("language") or seller.locale or "en"
    if locales.is_tag(language):
        values["language"] = locales.canonical(language)
    else:
        fail("language", _("Not a valid language tag."))
    if cells.get("category") in category_slugs:
        values["category"] = cells["category"]
    else:
        fail("category", _("There is no such category."))
    currency = cells.get("currency", "").upper()
    if not is_known(currency):
        fail("currency", _("Not a valid currency code."))
    else:
        try:
            price = parse_amount(cells.get("price", ""), currency, allow_zero=False)
            values["price_minor"], values["currency"] = price.minor, currency
        except DomainError as exc:
            fail("price", exc.detail)
    # A listing of variant rows may leave its own stock empty (checked once rows are grouped).
    values["stock"] = _whole(cells["stock"], 0, fail, "stock") if cells.get("stock") else None
    weight = _whole(cells.get("weight_grams", ""), 1, fail, "weight_grams")
    if weight is not None:
        values["weight_grams"] = weight
    code = hs_codes(session, cells.get("hs_code", ""))
    if code is None:
        fail("hs_code", _("Not a valid HS 2022 code (6 to 10 digits, the first six a subheading)."))
    else:
        values["hs_code"] = code
    origin = cells.get("origin_country", "").upper()
    if origin in COUNTRIES:
        values["origin_country"] = origin
    else:
        fail("origin_country", _("Not a valid country code."))
    destinations = sorted({c.upper() for c in _SPLIT.split(cells.get("ships_to", "")) if c})
    if destinations == ["*"]:
        pass
    elif not destinations or any(c not in COUNTRIES for c in destinations):
        fail("ships_to", _("Write * for everywhere, or country codes separated by spaces."))
    status = cells.get("status") or ListingStatus.DRAFT
    if status in {s.value for s in ListingStatus}:
        values["status"] = status
    else:
        fail("status", _("Must be one of: %(choices)s.", choices="draft, published, archived"))
    translations: dict[str, tuple[str, str]] = {}
    for tag in translation_locales:
        title = _cell(cells, "title", tag)
        description = _cell(cells, "description", tag)
        if not title and description:
            fail(f"title:{tag}", _("A translation needs a title."))
        elif title and tag == values.get("language"):
            fail(
                f"title:{tag}",
                _("This is the listing's own language: change the listing itself instead."),
            )
        elif len(title) > 200:
            fail(f"title:{tag}", _("Longer than maximum length %(max)s.", max=200))
        elif title:
            translations[tag] = (title, description)
    if problems:
        return None, problems
    return _Row(number, values, destinations, translations), []


def _cell(cells: dict[str, str], base: str, tag: str) -> str:
    for key in _translation_columns(tuple(cells)).get((base, tag), ()):
        return cells[key]
    return ""


@functools.lru_cache(maxsize=32)
def _translation_columns(header: tuple[str, ...]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(title|description, canonical locale) -> the header's column for it."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for key in header:
        base, _sep, tag = key.partition(":")
        if tag:
            found[(base, locales.canonical(tag))] = (key,)
    return found


class _HsMemo:
    """Each distinct HS code of a file checked once: the normalized code, or None if invalid."""

    def __init__(self, check: HsCheck) -> None:
        self.check = check
        self.seen: dict[str, str | None] = {}

    def __call__(self, session: Session, raw: str) -> str | None:
        if raw not in self.seen:
            try:
                self.seen[raw] = self.check(session, raw)
            except DomainError:
                self.seen[raw] = None
        return self.seen[raw]


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _single_variants(
    session: Session, rows: list[_Row], existing: dict[str, str]
) -> dict[str, str]:
    """The one offered variant of each listing the file updates, whose stock its `stock` is;
    a listing offering several is refused (its variants are set through their API)."""
    offered: dict[str, list[str]] = {}
    for chunk in _chunks(list(existing.values())):
        for variant_id, listing_id in session.execute(
            select(ListingVariant.id, ListingVariant.listing_id).where(
                ListingVariant.listing_id.in_(chunk), ListingVariant.removed_at.is_(None)
            )
        ):
            offered.setdefault(listing_id, []).append(variant_id)
    several = [
        RowError(row.number, "stock", str(HasVariants.default_detail))
        for row in rows
        if not row.variants and len(offered.get(existing.get(row.values["sku"], ""), [])) > 1
    ]
    if several:
        raise _rejected(several)
    return {listing_id: ids[0] for listing_id, ids in offered.items()}


def _write_variant_rows(
    session: Session, seller: Organisation, parents: list[_Row], ids: dict[str, str], now: Any
) -> None:
    """Each listing with variant rows offers exactly them: its variants with those SKUs are
    updated, the other rows are new variants, and its other offered variants are marked removed
    (kept: orders may refer to them)."""
    if not parents:
        return
    present: dict[tuple[str, str], tuple[str, bool]] = {}  # (listing, sku) -> (id, offered)
    for chunk in _chunks([ids[row.values["sku"]] for row in parents]):
        for variant_id, listing_id, sku, removed_at in session.execute(
            select(
                ListingVariant.id,
                ListingVariant.listing_id,
                ListingVariant.sku,
                ListingVariant.removed_at,
            ).where(ListingVariant.listing_id.in_(chunk))
        ):
            present[(listing_id, sku)] = (variant_id, removed_at is None)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    kept: set[str] = set()
    for row in parents:
        listing_id = ids[row.values["sku"]]
        for position, variant in enumerate(row.variants):
            values = {
                **variant.values,
                "position": position,
                "options": {axis: variant.values["options"][axis] for axis in row.axes},
            }
            found = present.get((listing_id, variant.values["sku"]))
            if found is None:
                inserts.append(
                    {
                        **values,
                        "id": new_id(),
                        "listing_id": listing_id,
                        "seller_id": seller.id,
                        "created_at": now,
                        "removed_at": None,
                    }
                )
            else:
                kept.add(found[0])
                updates.append({**values, "id": found[0], "removed_at": None})
    updates += [
        {"id": variant_id, "removed_at": now}
        for variant_id, offered in present.values()
        if offered and variant_id not in kept
    ]
    for chunk in _chunks(inserts):
        session.execute(insert(ListingVariant), chunk)
    for chunk in _chunks(updates):
        session.execute(update(ListingVariant), chunk)


def _write(
    session: Session,
    seller: Organisation,
    rows: list[_Row],
    translation_locales: list[str],
    rates: RateTable | None,
) -> ImportResult:
    """Bulk statements, a few per 500 rows: 10,000 rows import in seconds."""
    existing: dict[str, str] = {}
    for chunk in _chunks([row.values["sku"] for row in rows]):
        found = session.execute(
            select(Listing.sku, Listing.id).where(
                Listing.seller_id == seller.id, Listing.sku.in_(chunk)
            )
        )
        existing.update((sku, listing_id) for sku, listing_id in found)
    ids = {row.values["sku"]: existing.get(row.values["sku"]) or new_id() for row in rows}
    updated_ids = [ids[sku] for sku in existing]
    variant_of = _single_variants(session, rows, existing)
    kept: dict[str, list[search.Text]] = {}
    for chunk in _chunks(updated_ids):
        query = select(
            ListingTranslation.listing_id,
            ListingTranslation.locale,
            ListingTranslation.title,
            ListingTranslation.description,
        ).where(ListingTranslation.listing_id.in_(chunk))
        if translation_locales:
            query = query.where(ListingTranslation.locale.not_in(translation_locales))
        for listing_id, locale, title, description in session.execute(query):
            kept.setdefault(listing_id, []).append(search.Text(locale, title, description))
        session.execute(delete(ListingDestination).where(ListingDestination.listing_id.in_(chunk)))
        if translation_locales:
            session.execute(
                delete(ListingTranslation).where(
                    ListingTranslation.listing_id.in_(chunk),
                    ListingTranslation.locale.in_(translation_locales),
                )
            )
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    destinations: list[dict[str, Any]] = []
    translations: list[dict[str, Any]] = []
    new_variants: list[dict[str, Any]] = []  # each new listing's default variant
    stocks: list[dict[str, Any]] = []  # the stock of each updated listing's one variant
    axes: list[dict[str, Any]] = []  # the option axes of listings with variant rows
    texts: dict[str, list[search.Text]] = {}
    for row in rows:
        listing_id = ids[row.values["sku"]]
        texts[listing_id] = [
            search.Text(row.values["language"], row.values["title"], row.values["description"]),
            *(search.Text(tag, t, d) for tag, (t, d) in row.translations.items()),
            *kept.get(listing_id, []),
        ]
        stock = row.values["stock"]
        values = {
            **{name: value for name, value in row.values.items() if name != "stock"},
            "id": listing_id,
            "ships_everywhere": row.ships_to == ["*"],
            "price_norm": pricing.normalized(
                row.values["price_minor"], row.values["currency"], rates
            ),
            "search_text": search.document(texts[listing_id]),
            "updated_at": now,
        }
        if row.variants:
            axes.append({"id": listing_id, "option_axes": row.axes})
        if row.values["sku"] in existing:
            updates.append(values)
            if not row.variants:
                stocks.append({"id": variant_of[listing_id], "stock": stock})
        else:
            inserts.append(
                {**values, "seller_id": seller.id, "created_at": now, "option_axes": None}
            )
        if row.values["sku"] not in existing and not row.variants:
            new_variants.append(
                {
                    "id": new_id(),
                    "listing_id": listing_id,
                    "seller_id": seller.id,
                    "sku": row.values["sku"],
                    "position": 0,
                    "options": {},
                    "stock": stock,
                    "created_at": now,
                }
            )
        if row.ships_to != ["*"]:
            destinations.extend({"listing_id": listing_id, "country": c} for c in row.ships_to)
        translations.extend(
            {
                "listing_id": listing_id,
                "locale": tag,
                "title": title,
                "description": description,
                "updated_at": now,
            }
            for tag, (title, description) in row.translations.items()
        )
    for chunk in _chunks(inserts):
        session.execute(insert(Listing), chunk)
    for chunk in _chunks(updates):
        session.execute(update(Listing), chunk)
    for chunk in _chunks(axes):
        session.execute(update(Listing), chunk)
    for chunk in _chunks(new_variants):
        session.execute(insert(ListingVariant), chunk)
    for chunk in _chunks(stocks):
        session.execute(update(ListingVariant), chunk)
    _write_variant_rows(session, seller, [row for row in rows if row.variants], ids, now)
    for chunk in _chunks(destinations):
        session.execute(insert(ListingDestination), chunk)
    for chunk in _chunks(translations):
        session.execute(insert(ListingTranslation), chunk)
    updated = set(updated_ids)
    search.replace(session, {i: t for i, t in texts.items() if i not in updated}, new=True)
    search.replace(session, {i: t for i, t in texts.items() if i in updated})
    session.flush()
    session.expire_all()
    return ImportResult(created=len(inserts), updated=len(updates), rows=len(rows))
