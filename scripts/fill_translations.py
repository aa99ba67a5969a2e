"""Fill the .po catalogues from a JSON file {msgid: {locale: text}}; en gets the msgid itself.

Usage: make translations-update, then .venv/bin/python scripts/fill_translations.py FILE.json
It prints what is still untranslated.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALES = ["en", "zh_Hans", "ru", "ar", "tr", "kk"]


def fill(data: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    missing = []
    for loc in LOCALES:
        path = Path("locales") / loc / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale=loc)
        for message in catalogue:
            if not message.id:
                continue
            if loc == "en":
                message.string = message.id
            elif message.id in data and loc in data[message.id]:
                message.string = data[message.id][loc]
            message.flags.discard("fuzzy")
            if not message.string:
                missing.append((loc, str(message.id)))
        with path.open("wb") as handle:
            write_po(handle, catalogue, sort_output=True, no_location=True, width=100)
    return missing


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        untranslated = fill(json.load(source))
    print(f"untranslated: {len(untranslated)}")
    for locale, msgid in untranslated:
        print(f"  {locale}: {msgid}")
