"""Every user-facing message is translated in every catalogue, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from marketplace.i18n import LOCALES_DIR, SUPPORTED_LOCALES, catalogue_id

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def source_messages() -> set[str]:
    found = extract_from_dir(
        str(ROOT / "marketplace"),
        method_map=[("**.py", "python")],
        keywords={"_": None, "N_": None, "gettext": None},
    )
    return {
        message for _file, _line, message, _comments, _context in found if isinstance(message, str)
    }


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalogue_translates_every_message(locale: str) -> None:
    with open(LOCALES_DIR / catalogue_id(locale) / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle, locale=catalogue_id(locale))
    translated = {
        message.id: message.string for message in catalogue if message.id and message.string
    }
    missing = sorted(source_messages() - set(translated))
    assert missing == [], f"{locale} lacks {len(missing)} messages, e.g. {missing[:5]}"
    for msgid, text in translated.items():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(str(text))), (
            locale,
            msgid,
        )
