"""Keeping the search index in step with listings, in the transaction that changes them.

Each listing's texts (its own and every translation, each in its language) become postings:
one row per token with a BM25F score, so that a word's best listings can be read from an index
in order. Scores use fixed average field lengths instead of catalogue-wide statistics, so a
listing's rows never need rewriting because other listings changed. New words also enter the
typo vocabulary, and titles their type-ahead keys.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing, ListingTranslation
from marketplace.catalogue.search import analysis, typos
from marketplace.catalogue.search.models import (
    KEY_LENGTH,
    TOKEN_LENGTH,
    Posting,
    TitleKey,
    VocabularyEntry,
)

# Between titles and descriptions in `listings.search_text`; folding turns every control
# character into a space, so no query can ever contain it.
SEPARATOR = "\x1f"
K1, B = 1.2, 0.75
TITLE_WEIGHT, DESCRIPTION_WEIGHT = 3.0, 1.0
TITLE_LENGTH, DESCRIPTION_LENGTH = 6.0, 30.0
SCALE = 1000
MAX_TITLE_KEYS = 8
_CHUNK = 500
_REINDEX_BATCH = 5000
_ROWS = 5000
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Text:
    """A title and description in one language (a BCP 47 tag)."""

    language: str
    title: str
    description: str = ""


@dataclass
class Entries:
    """What one listing puts into the index."""

    postings: dict[str, int] = field(default_factory=dict)
    vocabulary: set[tuple[str, str]] = field(default_factory=set)
    title_keys: set[tuple[str, str]] = field(default_factory=set)


def document(texts: Sequence[Text]) -> str:
    """`listings.search_text`: ` titles \\x1f descriptions `, folded (exact-word matching)."""
    head = " ".join(analysis.fold(t.title) for t in texts if t.title)
    tail = " ".join(analysis.fold(t.description) for t in texts if t.description)
    return f" {head} {SEPARATOR} {tail} "


def _weight(count: int, length: int, average: float, weight: float) -> float:
    return weight * count / (1 - B + B * length / average) if count else 0.0


def _title_keys(title: str) -> Iterator[str]:
    """The folded title from each word start (each character in unspaced scripts)."""
    folded = analysis.fold(title)
    if not analysis.has_unspaced(folded):
        at = 0
        for word in folded.split(" "):
            yield folded[at : at + KEY_LENGTH]
            at += len(word) + 1
        return
    for at, ch in enumerate(folded):
        if ch != " " and (at == 0 or folded[at - 1] == " " or analysis.is_unspaced(ch)):
            yield folded[at : at + KEY_LENGTH]


def entries(texts: Sequence[Text]) -> Entries:
    """Postings (token -> best BM25F score over the texts), new vocabulary, title keys."""
    found = Entries()
    for text in texts:
        title = list(analysis.analyse(text.title, text.language))
        description = list(analysis.analyse(text.description, text.language))
        in_title = Counter(t for w in title for t in w.tokens)
        in_description = Counter(t for w in description for t in w.tokens)
        for token in in_title.keys() | in_description.keys():
            weighted = _weight(in_title[token], len(title), TITLE_LENGTH, TITLE_WEIGHT) + _weight(
                in_description[token], len(description), DESCRIPTION_LENGTH, DESCRIPTION_WEIGHT
            )
            score = round(SCALE * weighted / (K1 + weighted))
            if len(token) <= TOKEN_LENGTH and score > found.postings.get(token, 0):
                found.postings[token] = score
        for word in (*title, *description):
            if (
                not word.unspaced
                and typos.MIN_LENGTH <= len(word.form) <= typos.MAX_LENGTH
                and not _DIGIT.search(word.form)
            ):
                found.vocabulary.update((word.text, token) for token in word.tokens)
        keys = list(dict.fromkeys(_title_keys(text.title)))[:MAX_TITLE_KEYS]
        found.title_keys.update((text.language, key) for key in keys)
    return found


def _insert_ignoring_duplicates(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    table: Any = VocabularyEntry.__table__
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _add_vocabulary(session: Session, pairs: set[tuple[str, str]]) -> None:
    """Store words the vocabulary lacks under every deletion form of their folded spelling.

    A word is stored as written (lower case, accents on: what `did_you_mean` shows); its forms
    are folded, so that a missing accent is no typo. Duplicates are ignored, so two writers
    adding one word at once both succeed.
    """
    words = sorted({word for word, _token in pairs})
    known: set[tuple[str, str]] = set()
    for chunk in _chunks(words):
        folded = {analysis.fold(w) for w in chunk}
        known.update(
            (word, token)
            for variant, word, token in session.execute(
                select(VocabularyEntry.variant, VocabularyEntry.word, VocabularyEntry.token).where(
                    VocabularyEntry.variant.in_(folded), VocabularyEntry.word.in_(chunk)
                )
            )
            if variant == analysis.fold(word)
        )
    rows = [
        {"variant": variant, "word": word, "token": token}
        for word, token in sorted(pairs - known)
        for variant in sorted(typos.vocabulary_variants(analysis.fold(word)))
    ]
    for chunk in _chunks(rows, _ROWS):
        session.connection().execute(
            _insert_ignoring_duplicates(session).on_conflict_do_nothing(), chunk
        )


def _bulk_insert(
    session: Session, table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert many rows in the session's transaction: COPY on PostgreSQL, executemany on SQLite.

    A CSV import writes about 16 index rows per listing; on PostgreSQL, COPY takes a fraction of
    the time of psycopg's pipelined executemany (measured: the import of 10,000 rows).
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    for chunk in _chunks(rows, _ROWS):
        connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in chunk])


def replace(session: Session, texts: Mapping[str, Sequence[Text]], *, new: bool = False) -> None:
    """Index these listings' texts in place of what the index held for them.

    `new`: the listings were just created, so there is nothing of theirs to remove.
    """
    ids = sorted(texts)
    if not new:
        for chunk in _chunks(ids):
            session.execute(delete(Posting).where(Posting.listing_id.in_(chunk)))
            session.execute(delete(TitleKey).where(TitleKey.listing_id.in_(chunk)))
    postings: list[tuple[str, str, int]] = []
    keys: list[tuple[str, str, str]] = []
    vocabulary: set[tuple[str, str]] = set()
    for listing_id in ids:
        found = entries(texts[listing_id])
        postings.extend((listing_id, token, score) for token, score in found.postings.items())
        keys.extend((locale, key, listing_id) for locale, key in found.title_keys)
        vocabulary |= found.vocabulary
    _bulk_insert(session, Posting.__table__, ("listing_id", "token", "score"), postings)
    _bulk_insert(session, TitleKey.__table__, ("locale", "key", "listing_id"), keys)
    _add_vocabulary(session, vocabulary)


def listing_texts(listing: Listing, translations: Iterable[tuple[str, str, str]]) -> list[Text]:
    """The listing's own text first, then each translation's (locale, title, description)."""
    own = Text(listing.language, listing.title, listing.description or "")
    return [own, *(Text(locale, title, description) for locale, title, description in translations)]


def reindex(session: Session, listing: Listing, *, new: bool = False) -> None:
    """Rebuild one listing's search text and index rows from its own and translated text."""
    translations = session.execute(
        select(
            ListingTranslation.locale, ListingTranslation.title, ListingTranslation.description
        ).where(ListingTranslation.listing_id == listing.id)
    )
    texts = listing_texts(listing, [] if new else list(translations))
    listing.search_text = document(texts)
    session.flush()
    replace(session, {listing.id: texts}, new=new)


def reindex_all(session: Session) -> int:
    """Rebuild the whole index (after an upgrade that changed the analysis); returns listings."""
    session.execute(delete(Posting))
    session.execute(delete(TitleKey))
    session.execute(delete(VocabularyEntry))
    done, last = 0, ""
    while True:
        batch = session.execute(
            select(Listing.id, Listing.language, Listing.title, Listing.description)
            .where(Listing.id > last)
            .order_by(Listing.id)
            .limit(_REINDEX_BATCH)
        ).all()
        if not batch:
            return done
        texts = {row.id: [Text(row.language, row.title, row.description or "")] for row in batch}
        for listing_id, locale, title, description in session.execute(
            select(
                ListingTranslation.listing_id,
                ListingTranslation.locale,
                ListingTranslation.title,
                ListingTranslation.description,
            ).where(ListingTranslation.listing_id.in_(list(texts)))
        ):
            texts[listing_id].append(Text(locale, title, description))
        session.execute(
            update(Listing),
            [{"id": i, "search_text": document(t)} for i, t in texts.items()],
        )
        replace(session, texts, new=True)
        done += len(batch)
        last = batch[-1].id
