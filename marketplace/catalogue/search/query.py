"""Turning `?q=` into ranked listings in two SQL statements, whatever the catalogue's size.

1. `plan`: one statement reads how many listings hold each token the query could mean (counted
   up to COMMON, an index-only count) and the vocabulary words within typo distance of each
   query word. Python then picks, per query word, the tokens it matches: its stems in the
   reader's language and the usual catalogue languages; failing those, the closest vocabulary
   word (`did_you_mean`); for unspaced scripts the whole run if indexed, else known segments,
   bigrams and characters that cover it.
2. `ranked`: a subquery the catalogue page joins. The rarest word drives: its listings are read
   from the postings index in score order, CANDIDATES per token and stopping there, with the
   page's filters applied as they are read; every other word must be present (primary-key probes)
   and adds its score. A word's weight is its IDF, an exact word (as typed, folded) scores 4,
   a stem 3, a typo correction 2. Ties go to the smaller listing id, so keyset cursors hold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Subquery,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from marketplace.catalogue.models import Listing
from marketplace.catalogue.search import analysis, typos
from marketplace.catalogue.search.models import TOKEN_LENGTH, Posting

MAX_TERMS = 8
# An unspaced run of a query is read up to this many characters (each gives several tokens).
MAX_RUN = 24
# A token in this many listings or more counts as common: counting stops there.
COMMON = 500
# Listings read per token of the driving word: the bound on a search's cost (see README).
CANDIDATES = 200
MAX_TYPO_CANDIDATES = 200
EXACT, STEM, TYPO = 4, 3, 2


@dataclass
class Term:
    """One word of the query and the index tokens that match it."""

    form: str
    tokens: tuple[str, ...]
    frequency: int
    unspaced: bool = False
    typo: bool = False

    @property
    def weight(self) -> int:
        """IDF against COMMON, in hundredths: rare words count more than common ones."""
        return round(100 * math.log(1 + COMMON / max(self.frequency, 1)))


@dataclass
class Plan:
    terms: list[Term] = field(default_factory=list)
    did_you_mean: str | None = None
    empty: bool = False  # some word matches nothing: no listing can match


@dataclass
class _Word:
    form: str
    raw: str
    unspaced: bool
    candidates: tuple[str, ...]


def _query_words(q: str, locale: str) -> list[_Word]:
    reader = analysis.language_of(locale)
    languages = tuple(dict.fromkeys((reader, *analysis.QUERY_LANGUAGES)))
    found: list[_Word] = []
    seen: set[str] = set()
    for raw in analysis.words(q):
        for part, unspaced in analysis.split_scripts(raw):
            form = analysis.fold(part).replace(" ", "")
            if unspaced:
                part, form = part[:MAX_RUN], form[:MAX_RUN]
            if not form or form in seen:
                continue
            seen.add(form)
            if unspaced:
                pieces = [form, *analysis.ngrams(form)]
                if len(form) > 2:
                    pieces.extend(analysis.fold(s) for s in analysis.JIEBA.segments(part))
                candidates = tuple(dict.fromkeys(pieces))
            else:
                stems = [t for lang in languages for t in analysis.spaced_tokens(part, lang)]
                candidates = tuple(dict.fromkeys([form, *stems]))
            found.append(_Word(form, part, unspaced, candidates))
    return found[:MAX_TERMS]


# How many listings hold a token, counted in the index up to COMMON (an index-only range).
_COUNT = (
    "(SELECT count(*) FROM (SELECT 1 FROM search_postings p WHERE p.token = {0}.token"
    " LIMIT :common) c)"
)


def _plan_sql(tokens: int, variants: bool) -> str:
    """The plan statement as text: built in microseconds, where the same in Core takes ms.

    Only placeholder names are formatted into it; every value is a bound parameter.
    """
    listed = " UNION ALL ".join(
        f"SELECT CAST(:t{i} AS VARCHAR(64)) AS token" for i in range(tokens)
    )
    sql = f"SELECT 'token' AS kind, q.token AS word, q.token, {_COUNT.format('q')} AS frequency"
    sql += f" FROM ({listed}) q"
    if variants:
        near = _COUNT.format("v")
        sql += (
            f" UNION ALL SELECT 'typo', v.word, v.token, {near}"  # noqa: S608 (placeholders only)
            " FROM (SELECT word, token FROM search_vocabulary WHERE variant IN :variants"
            " LIMIT :typos) v"
        )
    return sql


def plan(session: Session, q: str, locale: str) -> Plan:
    """Which tokens each query word matches (one statement); an empty plan for no words."""
    words = _query_words(q, locale)
    tokens = sorted({t for w in words for t in w.candidates if len(t) <= TOKEN_LENGTH})
    if not tokens:
        return Plan(empty=True)
    variants = sorted({v for w in words if not w.unspaced for v in typos.query_variants(w.form)})
    statement = text(_plan_sql(len(tokens), bool(variants)))
    params: dict[str, Any] = {f"t{i}": t for i, t in enumerate(tokens)}
    params["common"] = COMMON
    if variants:
        statement = statement.bindparams(bindparam("variants", expanding=True))
        params |= {"variants": variants, "typos": MAX_TYPO_CANDIDATES}
    frequency: dict[str, int] = {}
    vocabulary: dict[str, dict[str, int]] = {}
    for kind, word, token, count in session.execute(statement, params):
        if kind == "token":
            frequency[token] = count
        elif count:
            vocabulary.setdefault(word, {})[token] = count
    return _decide(words, frequency, vocabulary)


def _decide(
    words: Sequence[_Word], frequency: dict[str, int], vocabulary: dict[str, dict[str, int]]
) -> Plan:
    result = Plan()
    corrected = False
    shown: list[str] = []
    for word in words:
        if word.unspaced:
            result.terms.extend(_cover(word.form, frequency))
            shown.append(word.raw)
            continue
        present = tuple(t for t in word.candidates if frequency.get(t))
        if present:
            result.terms.append(Term(word.form, present, sum(frequency[t] for t in present)))
            shown.append(word.raw)
            continue
        best = _closest(word.form, vocabulary)
        if best is None:
            result.empty = True
            shown.append(word.raw)
            continue
        tokens = vocabulary[best]
        result.terms.append(
            Term(analysis.fold(best), tuple(sorted(tokens)), sum(tokens.values()), typo=True)
        )
        shown.append(best)
        corrected = True
    if any(not t.tokens for t in result.terms) or not result.terms:
        result.empty = True
    result.terms = result.terms[:MAX_TERMS]
    if corrected:
        result.did_you_mean = " ".join(shown)
    return result


def _closest(form: str, vocabulary: dict[str, dict[str, int]]) -> str | None:
    """The vocabulary word nearest the query word: fewest edits, then most listings, then A-Z."""
    ranked = []
    for word, tokens in vocabulary.items():
        edits = typos.close(form, analysis.fold(word))
        if edits is not None:
            ranked.append((edits, -sum(tokens.values()), word))
    return min(ranked)[2] if ranked else None


def _cover(run: str, frequency: dict[str, int]) -> list[Term]:
    """Terms for an unspaced run: itself if indexed, else the longest known pieces covering it."""
    if frequency.get(run):
        return [Term(run, (run,), frequency[run], unspaced=True)]
    pieces = sorted({p for p in frequency if frequency[p] and p in run}, key=len, reverse=True)
    terms: list[Term] = []
    at = 0
    while at < len(run):
        piece = next((p for p in pieces if run.startswith(p, at)), None)
        if piece is None:
            return [Term(run, (), 0, unspaced=True)]  # a character no listing has
        terms.append(Term(piece, (piece,), frequency[piece], unspaced=True))
        at += len(piece)
    return terms


def _factor(index: int, term: Term, search_text: Any, dialect: str) -> ColumnElement[Any]:
    """4 for the word as typed (a whole word, or inside an unspaced run), 3 for a stem only."""
    if term.typo:
        return literal(TYPO)
    position = func.instr if dialect == "sqlite" else func.strpos
    return case(
        (position(search_text, bindparam(f"n{index}", _needle(term))) > 0, EXACT), else_=STEM
    )


def _needle(term: Term) -> str:
    return term.form if term.unspaced else f" {term.form} "


def _by_driver(plan: Plan) -> list[Term]:
    """The terms, rarest first: the first drives the search."""
    return sorted(plan.terms, key=lambda t: (t.frequency, t.form))


def shape(plan: Plan) -> tuple[Any, ...]:
    """What `ranked`'s statement is built from, apart from its parameters: two plans of one
    shape share the statement (built and compiled once), with their own `parameters`."""
    return (CANDIDATES, *((len(term.tokens), term.typo) for term in _by_driver(plan)))


def parameters(plan: Plan) -> dict[str, Any]:
    """The values `ranked` binds for `plan`, by name: the driving tokens (`d0`, ...), each other
    term's tokens (`o1`, ...), needles (`n0`, ...) and weights (`w0`, ...)."""
    terms = _by_driver(plan)
    values: dict[str, Any] = {f"d{j}": token for j, token in enumerate(terms[0].tokens)}
    for i, term in enumerate(terms):
        values[f"w{i}"] = term.weight
        if i:
            values[f"o{i}"] = list(term.tokens)
        if not term.typo:
            values[f"n{i}"] = _needle(term)
    return values


def ranked(plan: Plan, filters: Sequence[ColumnElement[bool]], dialect: str) -> Subquery:
    """(listing_id, score) of the listings matching every term, filters applied, bounded.

    The listing row read to apply the filters also gives each term's exact-word factor, so no
    listing is read twice. Every value of the plan is a named parameter (see `parameters`), so
    a statement built for one plan serves any plan of its `shape`.
    """
    terms = _by_driver(plan)
    driver, others = terms[0], terms[1:]
    branches = []
    for j, token in enumerate(driver.tokens):
        walked = (
            select(
                Posting.listing_id.label("listing_id"),
                Posting.score.label("score"),
                *(
                    _factor(i, term, Listing.search_text, dialect).label(f"f{i}")
                    for i, term in enumerate(terms)
                ),
            )
            .join(Listing, Listing.id == Posting.listing_id)
            .where(Posting.token == bindparam(f"d{j}", token), *filters)
            .order_by(Posting.score.desc(), Posting.listing_id.desc())
            .limit(CANDIDATES)
            .subquery()
        )
        branches.append(select(walked))
    walks: Any = branches[0]
    if len(branches) > 1:
        walks = union_all(*branches)
    union = walks.subquery("candidates")
    factors = [func.max(union.c[f"f{i}"]).label(f"f{i}") for i in range(len(terms))]
    candidates = (
        select(union.c.listing_id, func.max(union.c.score).label("s0"), *factors)
        .group_by(union.c.listing_id)
        .subquery("driven")
    )
    scores = [candidates.c.listing_id, candidates.c.s0]
    for i, term in enumerate(others, start=1):
        probe = aliased(Posting)
        tokens: BindParameter[list[str]] = bindparam(f"o{i}", list(term.tokens), expanding=True)
        scores.append(
            select(func.max(probe.score))
            .where(probe.listing_id == candidates.c.listing_id, probe.token.in_(tokens))
            .scalar_subquery()
            .label(f"s{i}")
        )
    per_term = select(*scores, *(candidates.c[f"f{i}"] for i in range(len(terms))))
    per_term_query = per_term.subquery("per_term")
    total: ColumnElement[Any] = literal_column("0")
    for i, term in enumerate(terms):
        weight = bindparam(f"w{i}", term.weight, type_=Integer())
        total = total + per_term_query.c[f"s{i}"] * weight * per_term_query.c[f"f{i}"]
    present = [per_term_query.c[f"s{i}"].is_not(None) for i in range(1, len(terms))]
    return (
        select(per_term_query.c.listing_id, total.label("score"))
        .where(and_(*present) if present else true())
        .subquery("ranked")
    )
