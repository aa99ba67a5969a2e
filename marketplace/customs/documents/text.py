"""Text for the page: Arabic joined and put in visual (right-to-left) order, labels per language.

reportlab draws glyphs in the order given and does no shaping, so Arabic is reshaped into its
joined presentation forms (arabic-reshaper) and reordered by the Unicode bidirectional algorithm
(python-bidi) before drawing. Text without right-to-left characters is left untouched. python-bidi's
pure-Python algorithm is used because its faster Rust one does not mirror brackets (rule L4), and
results are cached: labels repeat across every document.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import arabic_reshaper
from bidi.algorithm import get_display

LABELS_FILE = Path(__file__).resolve().parent.parent / "data" / "document-labels.json"
# Languages the documents are printed in, as BCP 47 tags (the interface's locales).
LANGUAGES = ("en", "zh-Hans", "ru", "ar", "tr", "kk")
RTL_LANGUAGES = frozenset({"ar"})
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_TOKENS = re.compile(
    r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+"
)


def has_rtl(text: str) -> bool:
    return _RTL.search(text) is not None


@functools.lru_cache(maxsize=8192)
def visual(text: str, rtl_page: bool = False) -> str:
    """The string in drawing order: joined Arabic, right-to-left runs reversed, brackets mirrored.

    On a right-to-left page a mixed line ("Arabic / English") reads from the right.
    """
    if not has_rtl(text):
        return text
    return str(get_display(arabic_reshaper.reshape(text), base_dir="R" if rtl_page else None))


def tokens(text: str) -> list[str]:
    """Words, spaces and single CJK characters: the places a line may break."""
    return _TOKENS.findall(text)


def document_language(tag: str | None) -> str:
    """The printable language for a seller's locale tag: 'zh-Hans-CN' -> 'zh-Hans', unknown -> 'en'."""
    if not tag:
        return "en"
    wanted = tag.replace("_", "-").lower()
    for language in LANGUAGES:
        if wanted == language.lower() or wanted.startswith(language.lower() + "-"):
            return language
    base = wanted.split("-")[0]
    return next((language for language in LANGUAGES if language.split("-")[0] == base), "en")


@functools.cache
def _labels() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = json.loads(LABELS_FILE.read_text(encoding="utf-8"))
    return table


def label(key: str, language: str) -> str:
    """A static label of the forms in one language (data/document-labels.json)."""
    return _labels()[key][language]


def label_keys() -> frozenset[str]:
    return frozenset(_labels())
