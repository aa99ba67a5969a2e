"""Measure candidate PDF renderers on the same page: a one-page, 20-row invoice in Chinese and Arabic.

This is how the document renderer was chosen (README, "Customs documents"). It needs the
candidates that the project does not depend on: `.venv/bin/pip install fpdf2 weasyprint`, then
`.venv/bin/python scripts/measure_pdf_renderers.py`. Each renderer draws the same text: a title,
exporter and importer, a 20-row item table (English and original description, HS code, origin,
quantity, weight, unit and total value) and the totals; Arabic is reshaped and reordered where the
renderer does not do it itself. Times (wall clock and CPU) are the median of repeated renders in one process, after one
warm-up render (fonts parsed once, as a long-running worker does).
"""

from __future__ import annotations

import io
import itertools
import statistics
import sys
import time
from collections.abc import Callable

FONT_LATIN = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_CJK = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

ROWS = [
    (
        f"Item {n} green tea / dates",
        "西湖龙井绿茶 特级 250克" if n % 2 else "تمر مجدول فاخر ٥٠٠ غرام",
        f"0902{n:02d}00",
        "CN" if n % 2 else "AE",
        n,
        250 * n,
        f"{12 + n}.50",
        f"{(12 + n) * n}.00",
    )
    for n in range(1, 21)
]
TITLE = "Commercial invoice / 商业发票 / فاتورة تجارية"
HEADER = ["#", "Description / 描述 / الوصف", "HS", "Origin", "Qty", "Net g", "Unit", "Total"]


def visual(text: str) -> str:
    """Arabic joined and put in visual order, for renderers without their own shaping."""
    import arabic_reshaper
    from bidi import get_display

    return str(get_display(arabic_reshaper.reshape(text)))


def render_reportlab() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    if "Latin" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Latin", FONT_LATIN))
        pdfmetrics.registerFont(TTFont("CJK", FONT_CJK, subfontIndex=0))
    latin = pdfmetrics.getFont("Latin").face.charToGlyph  # type: ignore[attr-defined]

    def draw(canvas: Canvas, x: float, y: float, text: str, size: float = 8) -> None:
        for font, chars in itertools.groupby(text, lambda c: "Latin" if ord(c) in latin else "CJK"):
            chunk = "".join(chars)
            canvas.setFont(font, size)
            canvas.drawString(x, y, chunk)
            x += pdfmetrics.stringWidth(chunk, font, size)

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    draw(canvas, 40, 800, visual(TITLE), 14)
    y = 760
    for column, label in enumerate(HEADER):
        draw(canvas, 40 + column * 65, y, visual(label))
    for row in ROWS:
        y -= 28
        draw(canvas, 40, y, row[0])
        draw(canvas, 40, y - 10, visual(row[1]))
        for column, value in enumerate(row[2:], start=2):
            draw(canvas, 40 + column * 65, y, str(value))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_fpdf2() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("Latin", fname=FONT_LATIN)
    pdf.add_font("CJK", fname=FONT_CJK)
    pdf.set_fallback_fonts(["CJK"])
    pdf.add_page()
    pdf.set_font("Latin", size=12)
    pdf.cell(text=visual(TITLE), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Latin", size=7)
    with pdf.table(col_widths=(5, 60, 20, 10, 8, 10, 12, 14), first_row_as_headings=False) as table:
        table.row(HEADER)
        for row in ROWS:
            table.row([str(row[4]), f"{row[0]}\n{visual(row[1])}", *[str(v) for v in row[2:]]])
    return bytes(pdf.output())


def render_weasyprint() -> bytes:
    from weasyprint import HTML

    rows = "".join(
        "<tr>"
        + "".join(f"<td>{v}</td>" for v in (row[4], f"{row[0]}<br>{row[1]}", *row[2:]))
        + "</tr>"
        for row in ROWS
    )
    html = f"""<html><head><style>
      @font-face {{ font-family: Latin; src: url(file://{FONT_LATIN}); }}
      @font-face {{ font-family: CJK; src: url(file://{FONT_CJK}); }}
      body {{ font-family: Latin, CJK; font-size: 8pt; }} table {{ border-collapse: collapse; }}
      td, th {{ border: 1px solid #999; padding: 2px; }}
    </style></head><body><h1>{TITLE}</h1><table>
    <tr>{"".join(f"<th>{h}</th>" for h in HEADER)}</tr>{rows}</table></body></html>"""
    return bytes(HTML(string=html).write_pdf())


def measure(name: str, render: Callable[[], bytes], runs: int) -> None:
    started = time.perf_counter()
    first = render()
    cold = time.perf_counter() - started
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        render()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(
        f"{name:10} first {cold * 1000:7.1f} ms   median {statistics.median(times) * 1000:7.1f} ms"
        f"   CPU {statistics.median(cpu) * 1000:7.1f} ms   ({runs} runs, {len(first) // 1024} KiB)"
    )


if __name__ == "__main__":
    wanted = sys.argv[1:] or ["reportlab", "fpdf2", "weasyprint"]
    candidates = {
        "reportlab": (render_reportlab, 30),
        "fpdf2": (render_fpdf2, 5),
        "weasyprint": (render_weasyprint, 3),
    }
    for label in wanted:
        function, count = candidates[label]
        measure(label, function, count)
