"""Rendering a declaration to PDF: commercial invoice, packing list, CN 22 and CN 23.

Drawn straight on a reportlab canvas with TrueType fonts (chosen by measurement: see the README,
"Customs documents"). Each kind is a title, the parties, a table of items and a block of totals;
the kinds differ in their columns and totals. Pages in a right-to-left language are mirrored.
Output is deterministic (reportlab's invariant mode): the same declaration gives the same bytes,
so re-issuing unchanged data can be recognised by its sha256.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from marketplace.customs.declaration import Category, Declaration, DeclarationItem, address_lines
from marketplace.customs.documents import fonts
from marketplace.customs.documents.text import RTL_LANGUAGES, label, tokens, visual
from marketplace.money import Money

Kind = Literal["commercial_invoice", "packing_list", "cn22", "cn23"]
KINDS: tuple[Kind, ...] = ("commercial_invoice", "packing_list", "cn22", "cn23")
Align = Literal["left", "right"]

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 32.0
BODY = 7.5
SMALL = 6.0
LEADING = 8.6
# Streams are Flate-compressed binary; ASCII85 on top only makes them larger and slower to write.
rl_config.useA85 = 0


def amount(money: Money) -> str:
    return money.to_api()["amount"]


def with_currency(money: Money) -> str:
    return f"{amount(money)} {money.currency}"


@dataclass(frozen=True)
class Column:
    key: str
    width: float
    align: Align
    value: Callable[[int, DeclarationItem], str]


_NUMBER = Column("line", 20, "right", lambda n, _: str(n))
_HS = Column("hs_code", 56, "left", lambda _, item: item.hs_code)
_ORIGIN = Column("origin", 38, "left", lambda _, item: item.origin_country)
_QUANTITY = Column("quantity", 36, "right", lambda _, item: str(item.quantity))
_WEIGHT = Column("net_weight", 44, "right", lambda _, item: str(item.net_weight_grams))
_UNIT = Column("unit_value", 54, "right", lambda _, item: amount(item.unit_value))
_VALUE = Column("total_value", 62, "right", lambda _, item: amount(item.total_value))

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "commercial_invoice": (_NUMBER, _HS, _ORIGIN, _QUANTITY, _WEIGHT, _UNIT, _VALUE),
    "packing_list": (_NUMBER, _HS, _ORIGIN, _QUANTITY, _WEIGHT),
    "cn22": (_QUANTITY, _WEIGHT, _VALUE, _HS, _ORIGIN),
    "cn23": (_NUMBER, _QUANTITY, _WEIGHT, _VALUE, _HS, _ORIGIN),
}


def _totals(kind: Kind, declaration: Declaration, language: str) -> list[tuple[str, str]]:
    weights = [
        ("net_weight_total", str(declaration.net_weight_grams)),
        ("gross_weight", str(declaration.gross_weight_grams)),
    ]
    if kind == "packing_list":
        return [("packages", "1"), *weights]
    contents = [("contents_total", with_currency(declaration.total_value))]
    if kind == "cn22":
        return [*contents, *weights]
    charges = [
        ("shipping", with_currency(declaration.shipping)),
        ("insurance", with_currency(declaration.insurance)),
    ]
    if kind == "cn23":
        return [*contents, *charges, *weights]
    if not declaration.crosses_border:  # a sales invoice: no import charges to state
        return [*contents, *charges, ("invoice_total", with_currency(declaration.invoice_total))]
    return [
        *contents,
        *charges,
        ("invoice_total", with_currency(declaration.invoice_total)),
        ("duties", with_currency(declaration.duties)),
        ("taxes", with_currency(declaration.taxes)),
        ("de_minimis", label("yes" if declaration.de_minimis else "no", language)),
        *weights,
    ]


class _Writer:
    """Draws in logical coordinates (x from the reading start); mirrors them for right-to-left pages."""

    def __init__(self, canvas: Canvas, language: str) -> None:
        self.canvas = canvas
        self.language = language
        self.rtl = language in RTL_LANGUAGES
        self.y = PAGE_HEIGHT - MARGIN

    def labels(self, key: str) -> list[str]:
        """The label in the page's language, then in English when that differs."""
        own = label(key, self.language)
        english = label(key, "en")
        return [own] if own == english else [own, english]

    def text(
        self,
        x: float,
        width: float,
        y: float,
        text: str,
        *,
        size: float = BODY,
        align: Align = "left",
    ) -> None:
        if not text:
            return
        if self.rtl:
            x = PAGE_WIDTH - x - width
            align = "right" if align == "left" else "left"
        shown = visual(text, self.rtl)
        if align == "right":
            x += width - fonts.width(shown, size)
        out = self.canvas.beginText(x, y)
        for font, part in fonts.runs(shown):
            out.setFont(font, size)
            out.textOut(part)
        self.canvas.drawText(out)

    def labelled(self, x: float, width: float, y: float, key: str, *, size: float = BODY) -> None:
        """A label and its English, side by side; each is its own bidi paragraph, so neither garbles the other."""
        for part in self.labels(key):
            self.text(x, width, y, part, size=size)
            step = fonts.width(visual(part, self.rtl), size) + size
            x, width = x + step, width - step

    def line(self, x: float, width: float, y: float) -> None:
        if self.rtl:
            x = PAGE_WIDTH - x - width
        self.canvas.line(x, y, x + width, y)


def _pieces(token: str, width: float, size: float) -> list[str]:
    """A word wider than the column (a long SKU, a URL) cut into pieces that fit."""
    if fonts.width(token, size) <= width:
        return [token]
    pieces, current = [], ""
    for char in token:
        if current and fonts.width(current + char, size) > width:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current]


def wrap(text: str, width: float, size: float = BODY) -> list[str]:
    """Logical lines that fit `width`: breaks at spaces, between CJK characters, inside overlong words."""
    lines: list[str] = []
    current = ""
    used = 0.0
    for token in (piece for word in tokens(text) for piece in _pieces(word, width, size)):
        extent = fonts.width(token, size)
        if current and not token.isspace() and used + extent > width:
            lines.append(current.rstrip())
            current, used = token, extent
        else:
            current, used = current + token, used + extent
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


def title_key(kind: Kind, declaration: Declaration) -> str:
    """Inside one customs territory the commercial invoice is a plain sales invoice."""
    if kind == "commercial_invoice" and not declaration.crosses_border:
        return "sales_invoice"
    return kind


def _header(writer: _Writer, kind: Kind, declaration: Declaration) -> None:
    width = PAGE_WIDTH - 2 * MARGIN
    title = writer.labels(title_key(kind, declaration))
    writer.text(MARGIN, width, writer.y - 14, title[0], size=15)
    if len(title) > 1:
        writer.text(MARGIN, width, writer.y - 26, title[1], size=9)
    writer.y -= 40
    facts = [
        ("invoice_number", declaration.invoice_number),
        ("invoice_date", declaration.invoice_date.isoformat()),
        ("incoterm", declaration.incoterm),
        ("currency", declaration.currency),
        (
            "reason" if kind == "commercial_invoice" else "category",
            label("reason_sale", writer.language),
        ),
    ]
    column = width / len(facts)
    for index, (key, value) in enumerate(facts):
        x = MARGIN + index * column
        for offset, text in enumerate(writer.labels(key)):
            writer.text(x, column - 4, writer.y - offset * 7, text, size=SMALL)
        writer.text(x, column - 4, writer.y - 18, value, size=BODY + 1)
    writer.y -= 32
    exporter = declaration.exporter
    ids = [
        f"{label(key, writer.language)}: {value}"
        for key, value in (("tax_id", exporter.tax_id), ("eori", exporter.eori))
        if value
    ]
    parties = [
        ("exporter", [exporter.name, *address_lines(exporter.address), *ids]),
        ("importer", [declaration.importer.name, *address_lines(declaration.importer.address)]),
    ]
    half = width / 2
    bottom = writer.y
    for index, (key, lines) in enumerate(parties):
        x = MARGIN + index * half
        y = writer.y
        writer.labelled(x, half - 8, y, key, size=SMALL)
        y -= LEADING + 1
        for text in lines:
            for part in wrap(text, half - 8):
                writer.text(x, half - 8, y, part)
                y -= LEADING
        bottom = min(bottom, y)
    writer.y = bottom - 6


def _upu_fields(writer: _Writer, declaration: Declaration) -> None:
    """The CN 22 / CN 23 boxes: the category ticked, the importer's contacts, the numbers of
    licences, certificates and the invoice, the office of origin and date of posting (left blank
    for the counter when not yet known)."""
    width = PAGE_WIDTH - 2 * MARGIN
    column = width / len(Category)
    for index, category in enumerate(Category):
        box = "[X]" if category is declaration.category else "[ ]"
        x = MARGIN + index * column
        key = "reason_sale" if category is Category.SALE_OF_GOODS else category.value
        for offset, text in enumerate(writer.labels(key)):
            shown = f"{box} {text}" if offset == 0 else text
            writer.text(x, column - 4, writer.y - offset * 7, shown, size=SMALL)
    writer.y -= 22
    importer = declaration.importer
    rows = [
        [
            ("importer_reference", importer.reference or ""),
            ("telephone", importer.phone or ""),
            ("email", importer.email or ""),
        ],
        [
            ("licence_numbers", ", ".join(declaration.licence_numbers)),
            ("certificate_numbers", ", ".join(declaration.certificate_numbers)),
            ("invoice_number", declaration.invoice_number),
        ],
        [
            ("office_of_origin", declaration.office_of_origin or ""),
            (
                "posting_date",
                declaration.posting_date.isoformat() if declaration.posting_date else "",
            ),
        ],
    ]
    for row in rows:
        cell = width / 3
        for index, (key, value) in enumerate(row):
            x = MARGIN + index * cell
            for offset, text in enumerate(writer.labels(key)):
                for part in wrap(text, cell - 6, SMALL)[:1]:
                    writer.text(x, cell - 6, writer.y - offset * 7, part, size=SMALL)
            writer.line(x, cell - 8, writer.y - 24)
            writer.text(x, cell - 6, writer.y - 21, value)
        writer.y -= 32


def _table_head(writer: _Writer, columns: Sequence[Column], description_width: float) -> None:
    """Column titles in both languages, each wrapped whole within its column."""
    x = MARGIN
    keys = [
        ("description", description_width, "left"),
        *((c.key, c.width, c.align) for c in columns),
    ]
    deepest = 0
    for key, width, align in keys:
        pad = 6 if align == "left" and key != "description" else 0
        lines = [
            part for text in writer.labels(key) for part in wrap(text, width - 4 - pad, SMALL - 0.5)
        ]
        for number, part in enumerate(lines):
            writer.text(
                x + pad,
                width - 4 - pad,
                writer.y - number * 6.5,
                part,
                size=SMALL - 0.5,
                align=align,
            )
        deepest = max(deepest, len(lines))
        x += width
    writer.y -= deepest * 6.5 + 8
    writer.line(MARGIN, PAGE_WIDTH - 2 * MARGIN, writer.y + LEADING - 1)


def _items(
    writer: _Writer, kind: Kind, declaration: Declaration, new_page: Callable[[], None]
) -> None:
    columns = COLUMNS[kind]
    description_width = PAGE_WIDTH - 2 * MARGIN - sum(c.width for c in columns)
    _table_head(writer, columns, description_width)
    for number, item in enumerate(declaration.items, start=1):
        lines = wrap(item.description, description_width - 6)
        if item.description_original and item.description_original != item.description:
            lines += wrap(item.description_original, description_width - 6)
        height = len(lines) * LEADING + 3
        if writer.y - height < MARGIN + 90:
            new_page()
            _table_head(writer, columns, description_width)
        for offset, text in enumerate(lines):
            writer.text(MARGIN, description_width - 6, writer.y - offset * LEADING, text)
        x = MARGIN + description_width
        for column in columns:
            pad = 6 if column.align == "left" else 0
            writer.text(
                x + pad,
                column.width - 4 - pad,
                writer.y,
                column.value(number, item),
                align=column.align,
            )
            x += column.width
        writer.y -= height
    writer.line(MARGIN, PAGE_WIDTH - 2 * MARGIN, writer.y + LEADING - 1)


def _footer(writer: _Writer, kind: Kind, declaration: Declaration) -> None:
    width = PAGE_WIDTH - 2 * MARGIN
    writer.y -= 4
    for key, value in _totals(kind, declaration, writer.language):
        writer.labelled(MARGIN + width / 3, width / 2, writer.y, key)
        writer.text(MARGIN + width * 5 / 6, width / 6, writer.y, value, align="right")
        writer.y -= LEADING + 1
    if kind == "packing_list":
        return
    writer.y -= 6
    statement = "customs_statement" if kind in ("cn22", "cn23") else "invoice_statement"
    for text in writer.labels(statement):
        for part in wrap(text, width, SMALL):
            writer.text(MARGIN, width, writer.y, part, size=SMALL)
            writer.y -= 7.5
    writer.y -= 18
    writer.line(MARGIN, width / 2, writer.y + 8)
    writer.labelled(MARGIN, width / 2, writer.y, "signature", size=SMALL)


def render(kind: Kind, language: str, declaration: Declaration) -> bytes:
    """One document as PDF bytes; raises fonts.FontsMissing when the fonts are not installed."""
    fonts.register()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(f"{label(title_key(kind, declaration), 'en')} {declaration.invoice_number}")
    canvas.setAuthor(declaration.exporter.name)
    writer = _Writer(canvas, language)
    page = [1]

    def number_page() -> None:
        text = f"{label('page', language)} {page[0]} · {declaration.invoice_number}"
        writer.text(MARGIN, PAGE_WIDTH - 2 * MARGIN, MARGIN - 14, text, size=SMALL, align="right")

    def new_page() -> None:
        number_page()
        canvas.showPage()
        page[0] += 1
        writer.y = PAGE_HEIGHT - MARGIN

    _header(writer, kind, declaration)
    if kind in ("cn22", "cn23"):
        _upu_fields(writer, declaration)
    _items(writer, kind, declaration, new_page)
    if writer.y < MARGIN + 120:
        new_page()
    _footer(writer, kind, declaration)
    number_page()
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
