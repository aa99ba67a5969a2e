"""Rendered documents carry what customs reads: numbers, codes, totals and the seller's own words."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest

from marketplace.customs.documents import fonts
from marketplace.customs.documents.render import KINDS, render
from marketplace.customs.documents.text import LANGUAGES, document_language, label_keys, visual
from marketplace.money import Money
from tests.customs.factories import ARABIC, CHINESE, HS_CODES, declaration
from tests.customs.pdf import page_count, pdf_text

SHIPMENT = declaration(20)


@pytest.mark.parametrize("language", ["en", "zh-Hans", "ar", "ru"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_document_shows_the_invoice_number_hs_codes_and_the_sellers_words(
    kind: str, language: str
) -> None:
    text = pdf_text(render(kind, language, SHIPMENT))  # type: ignore[arg-type]
    assert SHIPMENT.invoice_number in text
    for code in HS_CODES:
        assert code in text
    assert CHINESE in text
    assert ARABIC in text  # pypdf puts right-to-left text back in reading order


def test_a_twenty_line_invoice_fits_one_page() -> None:
    assert page_count(render("commercial_invoice", "zh-Hans", SHIPMENT)) == 1


@pytest.mark.parametrize("kind", ["commercial_invoice", "cn23"])
def test_the_totals_are_printed(kind: str) -> None:
    text = pdf_text(render(kind, "en", SHIPMENT))  # type: ignore[arg-type]
    assert "500.00 CNY" in text  # contents: 20 lines x 2 x 12.50
    assert "85.00 CNY" in text  # shipping
    assert str(SHIPMENT.gross_weight_grams) in text
    if kind == "commercial_invoice":
        assert "595.00 CNY" in text  # contents + shipping + insurance
        assert "42.10 CNY" in text  # taxes


def test_labels_are_in_the_exporters_language_with_english_beside_them() -> None:
    chinese = pdf_text(render("commercial_invoice", "zh-Hans", SHIPMENT))
    assert "商业发票" in chinese and "Commercial invoice" in chinese
    kazakh = pdf_text(render("cn23", "kk", SHIPMENT))
    assert "Кедендік декларация CN 23" in kazakh
    turkish = pdf_text(render("packing_list", "tr", SHIPMENT))
    assert "Çeki listesi" in turkish


def test_arabic_is_joined_and_drawn_right_to_left() -> None:
    drawn = visual(ARABIC)
    assert drawn != ARABIC
    assert all(
        not "\u0600" <= char <= "\u06ff" for char in drawn
    )  # presentation (joined) forms only
    # Read from the right and unjoined, the drawing is exactly what the seller wrote.
    assert unicodedata.normalize("NFKC", drawn[::-1]) == ARABIC


def test_arabic_with_numbers_keeps_every_word_and_number() -> None:
    # Mixed runs are where extraction heuristics differ, so this asserts words, not their order.
    words = "تمر مجدول 500 غرام"
    shipment = declaration(1)
    shipment = replace(shipment, items=(replace(shipment.items[0], description_original=words),))
    for language in ("en", "ar"):
        text = pdf_text(render("packing_list", language, shipment))
        for word in words.split():
            assert word in text


def test_a_long_shipment_continues_on_more_pages_without_losing_lines() -> None:
    long = declaration(70)
    content = render("packing_list", "en", long)
    assert page_count(content) > 1
    text = pdf_text(content)
    for item in long.items:
        assert item.description in text


def test_the_same_declaration_renders_to_the_same_bytes() -> None:
    assert render("cn22", "zh-Hans", SHIPMENT) == render("cn22", "zh-Hans", SHIPMENT)


def test_every_label_exists_in_every_document_language() -> None:
    from marketplace.customs.documents.text import label

    for key in label_keys():
        for language in LANGUAGES:
            assert label(key, language).strip(), (key, language)


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("zh-Hans", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("kk-KZ", "kk"),
        ("ar", "ar"),
        ("de", "en"),
        (None, "en"),
    ],
)
def test_the_exporters_locale_picks_the_document_language(tag: str | None, language: str) -> None:
    assert document_language(tag) == language


def test_missing_fonts_fail_with_the_packages_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(fonts, "SEARCH_DIRS", (str(tmp_path),))
    monkeypatch.setenv("DOCUMENT_FONT_DIRS", "")
    fonts.register.cache_clear()
    try:
        with pytest.raises(fonts.FontsMissing, match="fonts-wqy-microhei"):
            render("cn22", "en", SHIPMENT)
    finally:
        monkeypatch.undo()
        fonts.register.cache_clear()
        fonts.register()


def test_fonts_are_found_in_a_folder_named_by_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = fonts.locate(fonts.CJK)
    assert installed is not None
    (tmp_path / "cjk").mkdir()
    (tmp_path / "cjk" / fonts.CJK.filename).symlink_to(installed)
    monkeypatch.setenv("DOCUMENT_FONT_DIRS", str(tmp_path))
    assert fonts.locate(fonts.CJK) == tmp_path / "cjk" / fonts.CJK.filename


def test_text_wider_than_its_column_wraps_inside_it() -> None:
    from marketplace.customs.documents.render import wrap

    fonts.register()
    long_word = "SKU-" + "X" * 120
    lines = wrap(f"Tea {long_word} 西湖龙井绿茶特级西湖龙井绿茶特级西湖龙井绿茶特级", 100)
    assert len(lines) > 3
    assert all(fonts.width(line, 7.5) <= 100 for line in lines)
    assert (
        "".join(lines).replace(" ", "")
        == f"Tea{long_word}西湖龙井绿茶特级西湖龙井绿茶特级西湖龙井绿茶特级"
    )


def test_a_yen_shipment_without_tax_ids_renders_whole_yen_amounts() -> None:
    shipment = declaration(2)
    items = tuple(
        replace(item, unit_value=Money.of("1500", "JPY"), total_value=Money.of("3000", "JPY"))
        for item in shipment.items
    )
    shipment = replace(
        shipment,
        currency="JPY",
        items=items,
        total_value=Money.of("6000", "JPY"),
        shipping=Money.of("800", "JPY"),
        insurance=Money.zero("JPY"),
        duties=Money.zero("JPY"),
        taxes=Money.zero("JPY"),
        de_minimis=True,
        exporter=replace(shipment.exporter, tax_id=None, eori=None),
    )
    text = pdf_text(render("commercial_invoice", "en", shipment))
    assert "6800 JPY" in text and "1500" in text
    assert "EORI" not in text and "Tax ID" not in text
    assert "De minimis relief applied" in text
