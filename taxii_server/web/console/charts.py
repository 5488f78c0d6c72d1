"""Inline SVG bar charts for the statistics page: no image files, no script, no inline styles (the console's
Content-Security-Policy allows neither), readable at any zoom.

Every label is member- or hub-derived text and is escaped here; the result is Markup for the template.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from .presenters import visible

ROW = 28
LABEL_W = 190
BAR_W = 360
VALUE_W = 70


def bar_chart(title: str, values: Mapping[str, int | float], empty: str, percent: bool = False) -> Markup:
    """A horizontal bar chart: one row per value, the longest bar the largest value."""
    items = list(values.items())
    if not items:
        return Markup('<p class="empty">{}</p>').format(empty)
    top = max(v for _, v in items) or 1
    height = ROW * len(items) + 8
    width = LABEL_W + BAR_W + VALUE_W
    rows = []
    for n, (label, value) in enumerate(items):
        y = 4 + n * ROW
        length = max(1.0, BAR_W * value / top)
        shown = f"{value * 100:.0f} %" if percent else f"{value:g}"
        rows.append(Markup(
            '<text x="{lx}" y="{ty}" text-anchor="end" class="chart-label">{label}</text>'
            '<rect x="{bx}" y="{y}" width="{w:.1f}" height="{h}" class="chart-bar"/>'
            '<text x="{vx:.1f}" y="{ty}" class="chart-value">{value}</text>'
        ).format(lx=LABEL_W - 8, ty=y + ROW / 2 + 5, label=visible(label, 28), bx=LABEL_W, y=y, w=length,
                 h=ROW - 8, vx=LABEL_W + length + 6, value=shown))
    return Markup(
        '<svg class="chart" role="img" aria-labelledby="{id}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{id}">{title}</title>{rows}</svg>'
    ).format(id=_chart_id(title), w=width, h=height, title=title, rows=Markup("").join(rows))


def _chart_id(title: str) -> str:
    return "chart-" + "".join(ch if ch.isalnum() else "-" for ch in str(escape(title)))[:40]
