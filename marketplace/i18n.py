"""Translations without Flask: gettext catalogues from locales/, chosen per request by a context variable.

Domain code marks messages with `_` (lazy: rendered in the caller's locale when shown) and never
needs to know where the locale came from; the HTTP layer sets it with `use_locale`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.support import LazyProxy, NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LOCALE = "en"
# BCP 47 tags the interface is translated into (catalogue text may be in any locale).
SUPPORTED_LOCALES = ("en", "zh-Hans", "ru", "ar", "tr", "kk")

_current_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def catalogue_id(tag: str) -> str:
    """'zh-Hans' -> 'zh_Hans', the directory name gettext uses."""
    return tag.replace("-", "_")


@functools.cache
def _translations(tag: str) -> NullTranslations:
    if tag == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [catalogue_id(tag)], domain="messages")


def current_locale() -> str:
    return _current_locale.get()


@contextmanager
def use_locale(tag: str) -> Iterator[None]:
    token = _current_locale.set(tag if tag in SUPPORTED_LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def set_locale(tag: str) -> None:
    """Set the locale for the rest of this context (one request)."""
    _current_locale.set(tag if tag in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def gettext(message: str, **params: Any) -> str:
    text = _translations(current_locale()).gettext(message)
    return text % params if params else text


def N_(message: str) -> str:
    """Mark a message for extraction where it is translated later, by gettext on a variable."""
    return message


def _(message: str, **params: Any) -> LazyProxy:
    """Mark a message for translation, rendered in whatever locale is current when it is shown."""
    return LazyProxy(gettext, message, enable_cache=False, **params)


def parse_tag(tag: str) -> Locale | None:
    """A BCP 47 tag as a babel Locale, or None when it names no known locale."""
    try:
        return Locale.parse(tag.strip().replace("_", "-"), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def match_supported(tag: str) -> str | None:
    """The supported interface locale that serves a requested tag: exact, then by language."""
    locale = parse_tag(tag)
    if locale is None:
        return None
    for supported in SUPPORTED_LOCALES:
        wanted = parse_tag(supported)
        assert wanted is not None
        if locale.language == wanted.language and (
            locale.script in (None, wanted.script) or wanted.script is None
        ):
            return supported
    for supported in SUPPORTED_LOCALES:
        if supported.split("-")[0] == locale.language:
            return supported
    return None


def negotiate(
    explicit: str | None, accepted: Iterable[tuple[str, float]], preferred: str | None
) -> str:
    """?locale= wins, then Accept-Language by q-value, then the user's preference, then English."""
    if explicit:
        found = match_supported(explicit)
        if found:
            return found
    for tag, quality in sorted(accepted, key=lambda item: -item[1]):
        if quality <= 0 or tag == "*":
            continue
        found = match_supported(tag)
        if found:
            return found
    if preferred:
        found = match_supported(preferred)
        if found:
            return found
    return DEFAULT_LOCALE
