"""Typo tolerance by symmetric deletion: two words within d edits share a form with d letters gone.

Every word of the index vocabulary is stored under itself and each form with up to `allowed`
letters deleted (one for words of 5 letters or more, two from 9); a query word looks up itself and
its own deletions, and the candidates found are checked with the real distance. An indexed
equality lookup, the same on SQLite and PostgreSQL, instead of a similarity scan.
"""

from __future__ import annotations

MIN_LENGTH = 4
# Longer words are not in the vocabulary: typos are looked for in ordinary words, not codes.
MAX_LENGTH = 20


def allowed(length: int) -> int:
    """Edits tolerated for a word of this many letters (the longer of the two words compared)."""
    if length >= 9:
        return 2
    if length >= 5:
        return 1
    return 0


def deletions(word: str, depth: int) -> set[str]:
    """The word and every form of it with up to `depth` letters deleted."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w)) if len(w) > 1}
        found |= frontier
    return found


def vocabulary_variants(word: str) -> set[str]:
    """The forms a vocabulary word is stored under."""
    return deletions(word, allowed(len(word)))


def query_variants(word: str) -> set[str]:
    """The forms a query word looks up: enough deletions to meet any vocabulary word it may be."""
    if not MIN_LENGTH <= len(word) <= MAX_LENGTH + 2:  # two edits from the longest stored
        return set()
    return deletions(word, allowed(len(word) + 2))


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps of two."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


def close(query: str, word: str) -> int | None:
    """The distance between a query word and a vocabulary word if it is tolerated, else None."""
    if query == word:
        return None
    found = distance(query, word)
    return found if found <= allowed(max(len(query), len(word))) else None
