"""Fonts for the documents: found on disk, registered once, chosen per character run.

reportlab draws with one font at a time and has no fallback, so text is cut into runs, each in
the first font that has its glyphs. DejaVu Sans covers Latin (Turkish), Cyrillic (Russian, Kazakh)
and Arabic presentation forms; WenQuanYi Micro Hei covers CJK (and Latin, so a Chinese string with
digits stays in one run and extracts as written). Both are Debian packages that
scripts/system-deps.sh and the Dockerfile install.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# Where Debian, other Linux distributions, macOS and the user put fonts; DOCUMENT_FONT_DIRS
# (colon-separated) is searched first, for images that keep fonts elsewhere.
SEARCH_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)


@dataclass(frozen=True)
class FontFile:
    name: str
    filename: str
    debian_package: str
    subfont_index: int = 0


LATIN = FontFile("DocSans", "DejaVuSans.ttf", "fonts-dejavu-core")
CJK = FontFile("DocCJK", "wqy-microhei.ttc", "fonts-wqy-microhei")
# One face per script and no bold: every extra face is one more subset to build and embed in
# every document, and subsetting is most of a document's cost.
FONTS = (LATIN, CJK)


class FontsMissing(RuntimeError):
    """An installation error: the documents cannot be rendered without these font files."""


def _search_dirs() -> list[Path]:
    extra = [d for d in os.environ.get("DOCUMENT_FONT_DIRS", "").split(":") if d]
    return [Path(d).expanduser() for d in (*extra, *SEARCH_DIRS)]


def locate(font: FontFile, dirs: Sequence[Path] | None = None) -> Path | None:
    """The first file of that name under the font directories, or None."""
    for folder in dirs if dirs is not None else _search_dirs():
        if not folder.is_dir():
            continue
        direct = folder / font.filename
        if direct.is_file():
            return direct
        for found in sorted(folder.rglob(font.filename)):
            if found.is_file():
                return found
    return None


@functools.cache
def register() -> None:
    """Find and register every font once per process; raises FontsMissing naming what to install."""
    missing: list[FontFile] = []
    paths: dict[str, Path] = {}
    for font in FONTS:
        path = locate(font)
        if path is None:
            missing.append(font)
        else:
            paths[font.name] = path
    if missing:
        packages = " ".join(sorted({font.debian_package for font in missing}))
        files = ", ".join(font.filename for font in missing)
        raise FontsMissing(
            f"customs documents need the font files {files}: install the Debian packages "
            f"{packages} (`make system-deps` does it) or put the files in a folder named by "
            f"DOCUMENT_FONT_DIRS"
        )
    for font in FONTS:
        pdfmetrics.registerFont(
            TTFont(font.name, str(paths[font.name]), subfontIndex=font.subfont_index)
        )


@functools.cache
def _cmap(name: str) -> frozenset[int]:
    face = pdfmetrics.getFont(name).face
    return frozenset(face.charToGlyph)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # CJK radicals, punctuation, kana, unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF  # extension planes
    )


@functools.lru_cache(maxsize=65536)
def _font_for(char: str, order: tuple[str, str]) -> str:
    return next((name for name in order if ord(char) in _cmap(name)), order[0])


@functools.lru_cache(maxsize=16384)
def runs(text: str) -> tuple[tuple[str, str], ...]:
    """(font name, text) runs: a string with CJK in it prefers the CJK font for every glyph it has."""
    order = (CJK.name, LATIN.name) if any(_is_cjk(c) for c in text) else (LATIN.name, CJK.name)
    found: list[tuple[str, str]] = []
    current = ""
    start = 0
    for index, char in enumerate(text):
        font = _font_for(char, order)
        if font != current:
            if index > start:
                found.append((current, text[start:index]))
            current, start = font, index
    if text:
        found.append((current, text[start:]))
    return tuple(found)


@functools.lru_cache(maxsize=16384)
def width(text: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(part, font, size) for font, part in runs(text))
