"""Charts drawn with fpdf2's own primitives (rectangles, pie slices), so a printed report needs no
plotting library: matplotlib is not a dependency of the project, and these two shapes are all the
progress report needs. Labels use the PDF's CJK font ("cjk", congress.records.minutes.new_pdf)."""

from __future__ import annotations

from fpdf import FPDF

# Distinct on screen and in greyscale print (light to dark)
PALETTE = ((91, 155, 213), (237, 125, 49), (165, 165, 165), (255, 192, 0), (68, 114, 196), (112, 173, 71),
           (38, 68, 120), (158, 72, 14), (99, 99, 99), (153, 115, 0), (37, 94, 145), (67, 104, 43))


def bar_chart(pdf: FPDF, title: str, items: list[tuple[str, float]], *, width: float = 170,
              label_width: float = 40, bar_height: float = 5.5, unit: str = "") -> None:
    """Horizontal bars, one per (label, value), longest value full width, the value at its end."""
    pdf.set_font("cjk", size=10)
    if pdf.will_page_break(len(items) * (bar_height + 1.5) + 11):  # the title stays with its chart
        pdf.add_page()
    pdf.cell(0, 6, text=title, new_x="LMARGIN", new_y="NEXT")
    top, left = pdf.get_y() + 1, pdf.l_margin
    biggest = max((v for _l, v in items), default=0) or 1
    room = width - label_width - 16
    pdf.set_font("cjk", size=8)
    for index, (label, value) in enumerate(items):
        y = top + index * (bar_height + 1.5)
        pdf.set_xy(left, y)
        pdf.cell(label_width - 2, bar_height, text=label, align="R")
        pdf.set_fill_color(*PALETTE[0])
        length = room * value / biggest
        if length > 0:
            pdf.rect(left + label_width, y, length, bar_height, style="F")
        pdf.set_xy(left + label_width + length + 1, y)
        pdf.cell(15, bar_height, text=f"{value:g}{unit}")
    pdf.set_draw_color(120, 120, 120)
    pdf.line(left + label_width, top - 0.5, left + label_width, top + len(items) * (bar_height + 1.5))
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(left, top + len(items) * (bar_height + 1.5) + 3)
    _reset(pdf)


def pie_chart(pdf: FPDF, title: str, items: list[tuple[str, int]], *, radius: float = 22) -> None:
    """A pie of (label, count) with a legend giving each count and share; nothing to draw says so."""
    pdf.set_font("cjk", size=10)
    total = sum(v for _l, v in items)
    if pdf.will_page_break(2 * radius + 13 if total else 12):  # the title stays with its chart
        pdf.add_page()
    pdf.cell(0, 6, text=title, new_x="LMARGIN", new_y="NEXT")
    if not total:
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 6, text="（尚无数据）", new_x="LMARGIN", new_y="NEXT")
        _reset(pdf)
        return
    top, left = pdf.get_y() + 2, pdf.l_margin + 4
    angle = 90.0
    for index, (_label, value) in enumerate(items):
        if not value:
            continue
        sweep = 360 * value / total
        pdf.set_fill_color(*PALETTE[index % len(PALETTE)])
        if sweep >= 359.999:
            pdf.ellipse(left, top, 2 * radius, 2 * radius, style="F")
        else:
            pdf.solid_arc(left, top, radius, angle - sweep, angle, style="F")
        angle -= sweep
    pdf.set_font("cjk", size=9)
    for index, (label, value) in enumerate(items):
        y = top + 4 + index * 7
        pdf.set_fill_color(*PALETTE[index % len(PALETTE)])
        pdf.rect(left + 2 * radius + 12, y + 1, 4, 4, style="F")
        pdf.set_xy(left + 2 * radius + 18, y)
        pdf.cell(80, 6, text=f"{label}  {value} 件（{value / total * 100:.1f}%）")
    pdf.set_xy(pdf.l_margin, top + 2 * radius + 4)
    _reset(pdf)


def _reset(pdf: FPDF) -> None:
    """The tables after a chart take the current fill colour for their cells: back to white."""
    pdf.set_fill_color(255, 255, 255)
    pdf.set_font("cjk", size=10)
