"""BCP 47 tags for catalogue text: canonical spelling and the fallback chain a reader walks.

Catalogue text may be in any language (not only the six the interface is translated into), so
tags are kept as sellers give them, only normalized in case: `zh-hant-tw` is stored `zh-Hant-TW`.
"""

from __future__ import annotations

import functools
import re

from babel.core import get_global

from marketplace.i18n import parse_tag

_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def is_tag(raw: str) -> bool:
    """A well-formed BCP 47 tag of a language CLDR knows."""
    return bool(_TAG.match(raw or "")) and len(raw) <= 35 and parse_tag(raw) is not None


def canonical(tag: str) -> str:
    """Case per RFC 5646: language lower, script title, region upper, the rest lower."""
    parts = tag.strip().replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


@functools.lru_cache(maxsize=512)
def fallback_chain(tag: str) -> tuple[str, ...]:
    """Tags to try, most specific first: zh-Hant-TW -> zh-Hant -> zh; zh-TW -> zh-Hant-TW -> ...

    A tag without a script also tries its likely script (CLDR likely subtags), so a reader asking
    for `zh-TW` gets a `zh-Hant` translation and one asking for `zh` also gets `zh-Hans`.
    """
    tag = canonical(tag)
    chain = _truncations(tag)
    parts = tag.split("-")
    has_script = len(parts) > 1 and len(parts[1]) == 4
    if not has_script:
        likely = get_global("likely_subtags").get("_".join(p for p in parts[:2] if len(p) <= 3))
        if likely is None:
            likely = get_global("likely_subtags").get(parts[0])
        if likely:
            script = likely.split("_")[1]
            scripted = "-".join([parts[0], script, *parts[1:]])
            extra = [c for c in _truncations(scripted) if c not in chain]
            # The bare language stays last unless it is all the reader asked for.
            at = len(chain) if len(parts) == 1 else len(chain) - 1
            chain[at:at] = extra
    return tuple(chain)


def preference_chain(*tags: str) -> tuple[str, ...]:
    """The chains of several preferences in order (`kk, ru;q=0.8`: Kazakh's, then Russian's)."""
    chain: list[str] = []
    for tag in tags:
        chain.extend(t for t in fallback_chain(tag) if t not in chain)
    return tuple(chain)


def prefers(chain: tuple[str, ...], translation: str | None, own_language: str) -> bool:
    """Whether a reader with `chain` is better served by `translation` than by the listing's own
    text: the translation ranks before the listing's language (which otherwise ranks last)."""
    own_rank = chain.index(own_language) if own_language in chain else len(chain)
    return translation in chain and chain.index(translation) < own_rank


def _truncations(tag: str) -> list[str]:
    parts = tag.split("-")
    return ["-".join(parts[:size]) for size in range(len(parts), 0, -1)]
