"""Reading issued PDFs back the way a broker's tool would: their text, page by page."""

from __future__ import annotations

import io
import unicodedata

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """All pages' text; Arabic presentation forms folded back to letters (NFKC)."""
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return unicodedata.normalize("NFKC", text)


def page_count(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)
