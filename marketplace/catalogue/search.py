"""Multilingual search over listings: one folded document per listing, matched by substring.

Substring matching is what works for every script: Chinese, Japanese or Thai text has no spaces
for a word tokenizer to split on, so `茶` must match inside `绿茶`. Each listing keeps
`search_text`: its titles (own and every translation), a separator, then its descriptions,
case-folded, with Latin/Cyrillic/Greek accents and Arabic/Hebrew vowel marks removed, and
punctuation turned into spaces. Queries are folded the same way and every term must occur.

Indexes make it fast: SQLite's FTS5 trigram table (`listings_fts`, for terms of 3 characters
or more) and PostgreSQL's pg_trgm GIN index (which serves LIKE '%term%'); both are created by
migration 0030_catalogue. Relevance is computed identically on both databases: a term found in
a title counts more than one found in a description, and a whole word more than a fragment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, text

from marketplace.catalogue.models import Listing

# Between titles and descriptions; folding turns every control character into a space, so no
# query can ever contain it.
SEPARATOR = "\x1f"
MAX_TERMS = 8
MAX_TERM_LENGTH = 64
_TRIGRAM = 3

# Accents and vowel signs only: Japanese voicing marks (also combining) change the word.
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]"
)
_FOLD_EXTRA = str.maketrans({"ı": "i", "ß": "ss"})
_SPACES = re.compile(r"\s+")


def fold(value: str) -> str:
    """Case-, accent- and width-insensitive form of a text, punctuation as spaces."""
    decomposed = _MARKS.sub("", unicodedata.normalize("NFKD", value))
    folded = unicodedata.normalize("NFKC", decomposed.casefold().translate(_FOLD_EXTRA))
    kept = "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in folded)
    return _SPACES.sub(" ", kept).strip()


def document(titles: Iterable[str], descriptions: Iterable[str]) -> str:
    """The stored search text: ` titles \\x1f descriptions ` (spaces around, for whole words)."""
    head = " ".join(fold(t) for t in titles if t)
    tail = " ".join(fold(d) for d in descriptions if d)
    return f" {head} {SEPARATOR} {tail} "


def terms(query: str) -> list[str]:
    """The folded words of a query, at most MAX_TERMS, each at most MAX_TERM_LENGTH long."""
    words: list[str] = []
    for word in fold(query).split(" "):
        if word and word not in words:
            words.append(word[:MAX_TERM_LENGTH])
    return words[:MAX_TERMS]


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match(words: list[str], dialect: str) -> ColumnElement[bool]:
    """Every word occurs in the listing's search text (via the trigram index where one applies)."""
    conditions: list[ColumnElement[bool]] = []
    long_words = [w for w in words if len(w) >= _TRIGRAM]
    if dialect == "sqlite" and long_words:
        conditions.append(
            literal_column("listings.rowid").in_(
                text(
                    "SELECT rowid FROM listings_fts WHERE listings_fts MATCH :fts_query"
                ).bindparams(fts_query=" ".join(_fts_phrase(w) for w in long_words))
            )
        )
        words = [w for w in words if len(w) < _TRIGRAM]
    conditions.extend(Listing.search_text.like(_like(w), escape="\\") for w in words)
    return and_(*conditions)


def relevance(words: list[str], dialect: str) -> ColumnElement[Any]:
    """An integer score, the same on both databases: title hits 2, whole-word hits 1 more."""
    position = func.instr if dialect == "sqlite" else func.strpos
    separator_at = position(Listing.search_text, SEPARATOR)
    score: ColumnElement[Any] = literal_column("0")
    for word in words:
        at = position(Listing.search_text, word)
        in_title = and_(at > 0, at < separator_at)
        whole = position(Listing.search_text, f" {word} ") > 0
        score = score + _case(in_title, 2) + _case(whole, 1)
    return score


def _case(condition: ColumnElement[bool], points: int) -> ColumnElement[Any]:
    return case((condition, points), else_=0)
