"""The README's configuration table is config/__init__.py's DEFAULTS, no more, no less."""

from __future__ import annotations

import re
from pathlib import Path

from config import DEFAULTS

README = Path(__file__).resolve().parent.parent / "README.md"
# Read from the environment by gunicorn's config and the font finder, not by the settings loader.
OUTSIDE_SETTINGS = {
    "PORT",
    "HOST",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "DOCUMENT_FONT_DIRS",
}


def configuration_table_names() -> set[str]:
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    assert set(DEFAULTS) - configuration_table_names() == set()


def test_the_readme_configuration_table_names_only_real_settings() -> None:
    assert configuration_table_names() - set(DEFAULTS) - OUTSIDE_SETTINGS == set()
