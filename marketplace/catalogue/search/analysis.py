"""Text analysis for search: the same tokens from a listing's text and from a buyer's query.

Text is split into words (letters, marks and digits) after NFKC and case folding. A word of a
spaced script is stemmed with the Snowball stemmer of its text's language (PyStemmer), repeated
until it stops changing (Turkish `halı` and `halılar` both reach `hal` only on a second pass;
Turkish and Arabic only: elsewhere a second pass over-stems), then folded: accents, Arabic
vowel marks and tatweel removed, `ı` as `i`. Kazakh and Uzbek
have no Snowball stemmer; being suffixing (agglutinative) languages like Turkish, their words
(in their own scripts) are cut to their first five letters, the truncation that matches a stemmer's quality in Turkish
retrieval (Can et al., JASIST 59(3), 2008). Other languages without a stemmer keep the folded
word. Unspaced scripts (Han, kana, Thai, Lao, Khmer, Myanmar) give every single character and
every pair of neighbours (bigrams); Chinese text also gives its words as jieba segments them.
"""

from __future__ import annotations

import functools
import re
import string
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import Stemmer

# Accents and vowel signs only: Japanese voicing marks (also combining) change the word.
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]"
)
_FOLD_EXTRA = str.maketrans({"ı": "i", "ß": "ss"})
_SPACES = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_ASCII_PUNCTUATION = str.maketrans({ch: " " for ch in string.punctuation})
_UNSPACED = re.compile(
    "[\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
    "\U00020000-\U0003134f]+"
)

# BCP 47 language -> Snowball algorithm (every one PyStemmer ships, by ISO 639-1 code).
SNOWBALL = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "st": "sesotho",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
# Turkic languages without a Snowball stemmer, and the scripts they are written in: their words
# are cut to their first TRUNCATE letters (a Latin word in a Kazakh text is kept whole).
TRUNCATED = {
    "kk": ("CYRILLIC",),
    "ky": ("CYRILLIC",),
    "tt": ("CYRILLIC",),
    "ba": ("CYRILLIC",),
    "uz": ("LATIN", "CYRILLIC"),
    "tk": ("LATIN",),
    "az": ("LATIN", "CYRILLIC"),
    "ug": ("ARABIC",),
}
TRUNCATE = 5
# Languages whose stemmers a query word is also run through (the reader's own comes first):
# buyers often type in a language other than their interface's. Uzbek is left out: cutting
# every Latin query word to five letters would match too much; Uzbek readers get it as theirs.
QUERY_LANGUAGES = ("en", "ru", "tr", "kk", "ar", "de", "fr", "es")
MAX_WORD = 64
# Stemmers whose one pass leaves a suffix that its second pass removes.
_REPEATED = frozenset({"turkish", "arabic"})


def fold(value: str) -> str:
    """Case-, accent- and width-insensitive form of a text, punctuation as spaces."""
    decomposed = _MARKS.sub("", unicodedata.normalize("NFKD", value))
    folded = unicodedata.normalize("NFKC", decomposed.casefold().translate(_FOLD_EXTRA))
    folded = folded.translate(_ASCII_PUNCTUATION)
    if not folded.replace(" ", "").isalnum():  # anything else but letters and digits left
        folded = "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in folded)
    return _SPACES.sub(" ", folded).strip()


def language_of(tag: str) -> str:
    """The language subtag of a BCP 47 tag: `zh-Hans-CN` -> `zh`."""
    return tag.split("-", 1)[0].lower()


@dataclass(frozen=True)
class Word:
    """One word of a text: `form` as folded (what exact matching compares), its index tokens.

    `text` is the word lower-cased with its accents, as a suggestion shows it.
    """

    form: str
    tokens: tuple[str, ...]
    unspaced: bool = False
    text: str = ""


def words(value: str) -> Iterator[str]:
    """The words of a text, case-folded and NFKC-normalized but with accents still on them."""
    for chunk in unicodedata.normalize("NFKC", value).casefold().split():
        if chunk.isalnum():  # the usual case, checked in C
            yield chunk[:MAX_WORD]
            continue
        current: list[str] = []
        for ch in chunk:
            if unicodedata.category(ch)[0] in "LMN":
                current.append(ch)
            elif current:
                yield "".join(current)[:MAX_WORD]
                current = []
        if current:
            yield "".join(current)[:MAX_WORD]


def split_scripts(word: str) -> Iterator[tuple[str, bool]]:
    """Runs of a word, each with whether it is in an unspaced script."""
    at = 0
    for found in _UNSPACED.finditer(word):
        if found.start() > at:
            yield word[at : found.start()], False
        yield found.group(), True
        at = found.end()
    if at < len(word):
        yield word[at:], False


@functools.cache
def _stemmer(algorithm: str) -> Any:
    return Stemmer.Stemmer(algorithm)


_stem_lock = threading.Lock()


@functools.lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """The folded index token of a spaced-script word (lower-cased, accents on) in a language."""
    if _DIGIT.search(word):  # codes and numbers are matched whole, in any language
        return fold(word)
    if language in TRUNCATED:
        script = unicodedata.name(word[0], "").split(" ", 1)[0]
        return fold(word)[:TRUNCATE] if script in TRUNCATED[language] else fold(word)
    algorithm = SNOWBALL.get(language)
    if algorithm is None:
        return fold(word)
    with _stem_lock:  # a PyStemmer object is not safe to share between threads
        stemmer = _stemmer(algorithm)
        for _ in range(4 if algorithm in _REPEATED else 1):
            shorter = stemmer.stemWord(word)
            if shorter == word:
                break
            word = shorter
    return fold(word)


def english_plural_forms(word: str) -> tuple[str, ...]:
    """`scarves` -> `scarf`, `knives` -> `knife`: the plurals the English stemmer leaves apart."""
    if len(word) > 4 and word.endswith("ves"):
        return (word[:-3] + "f", word[:-3] + "fe")
    return ()


def spaced_tokens(word: str, language: str) -> tuple[str, ...]:
    """Index tokens of a spaced-script word: its stem, and for English `-ves` its singular's."""
    tokens = [stem(word, language)]
    if language == "en":
        tokens.extend(stem(form, language) for form in english_plural_forms(word))
    return tuple(dict.fromkeys(t for t in tokens if t))


def ngrams(run: str) -> list[str]:
    """Every character and every pair of neighbouring characters of an unspaced run."""
    return [*run, *(run[i : i + 2] for i in range(len(run) - 1))]


class _Jieba:
    """jieba's tokenizer, loaded once per process on first use (its dictionary takes ~1 s)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self.load_seconds: float | None = None

    def segments(self, run: str) -> list[str]:
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    started = time.perf_counter()
                    import jieba

                    jieba.setLogLevel(60)
                    tokenizer = jieba.Tokenizer()
                    tokenizer.initialize()
                    self.load_seconds = time.perf_counter() - started
                    self._tokenizer = tokenizer
        return [s for s in self._tokenizer.cut_for_search(run) if s.strip()]


JIEBA = _Jieba()


def unspaced_tokens(run: str, language: str) -> tuple[str, ...]:
    """Index tokens of an unspaced run: characters, bigrams, and for Chinese jieba's words."""
    folded = fold(run).replace(" ", "")
    tokens = ngrams(folded)
    if language == "zh" and len(folded) > 2:
        tokens.extend(fold(s) for s in JIEBA.segments(run))
    return tuple(dict.fromkeys(t for t in tokens if t))


def analyse(text: str, language: str) -> Iterator[Word]:
    """The words of a text written in `language` (a BCP 47 tag), with their index tokens."""
    lang = language_of(language)
    for raw in words(text):
        yield from _analyse_word(raw, lang)


@functools.lru_cache(maxsize=200_000)
def _analyse_word(raw: str, language: str) -> tuple[Word, ...]:
    """One word's analysis; catalogues repeat their words, so each is analysed once."""
    found = []
    for part, unspaced in split_scripts(raw):
        form = fold(part).replace(" ", "")
        if not form:
            continue
        if unspaced:
            found.append(Word(form, unspaced_tokens(part, language), True))
        else:
            found.append(Word(form, spaced_tokens(part, language), text=part))
    return tuple(found)


def is_unspaced(ch: str) -> bool:
    """Whether a character belongs to a script written without spaces between words."""
    return _UNSPACED.fullmatch(ch) is not None


def has_unspaced(text: str) -> bool:
    """Whether a text has any character of a script written without spaces."""
    return _UNSPACED.search(text) is not None
