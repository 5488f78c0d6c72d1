"""Horizontal bar charts of the statistics as SVG, drawn once for both readers: the console's statistics page
(inline SVG styled by its stylesheet, since its Content-Security-Policy allows no inline style) and
`taxii-hub stats --charts DIR` (standalone .svg files that carry their own style). No plotting library, no
image files on the page, readable at any zoom.

Every label and the title are escaped here; `label` lets the console show member text its way (control
and bidirectional characters made visible) before escaping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path

from .stats import Statistics

ROW = 28
LABEL_W = 190
BAR_W = 360
VALUE_W = 70
LABEL_CHARS = 28
# For standalone files only: the console styles the same classes in its stylesheet.
STANDALONE_STYLE = (".chart-bar{fill:#2b6cb0}.chart-label,.chart-value{font:13px sans-serif;fill:#1a202c}"
                    ".chart-title{font:bold 15px sans-serif;fill:#1a202c}")


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def bar_chart_svg(title: str, values: Mapping[str, int | float], *, percent: bool = False,
                  label: Callable[[str], str] = _cut, standalone: bool = False) -> str:
    """One row per value, the longest bar the largest value. Standalone: with a title line, a style element
    and the XML namespace declaration a file needs; inline: the title only as the accessible name."""
    items = list(values.items())
    top = max((v for _, v in items), default=0) or 1
    head = 28 if standalone else 0
    height = head + ROW * len(items) + 8
    width = LABEL_W + BAR_W + VALUE_W
    rows = []
    for n, (name, value) in enumerate(items):
        y = head + 4 + n * ROW
        length = max(1.0, BAR_W * value / top)
        shown = f"{value * 100:.0f} %" if percent else f"{value:g}"
        text_y = y + ROW / 2 + 5
        rows.append(
            f'<text x="{LABEL_W - 8}" y="{text_y}" text-anchor="end" class="chart-label">{escape(label(name))}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{length:.1f}" height="{ROW - 8}" class="chart-bar"/>'
            f'<text x="{LABEL_W + length + 6:.1f}" y="{text_y}" class="chart-value">{escape(shown)}</text>')
    chart_id = "chart-" + "".join(ch if ch.isalnum() else "-" for ch in escape(title))[:40]
    extra = (f"<style>{STANDALONE_STYLE}</style>"
             f'<text x="8" y="20" class="chart-title">{escape(title)}</text>') if standalone else ""
    return (f'<svg class="chart" role="img" aria-labelledby="{chart_id}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}">{escape(title)}</title>{extra}{"".join(rows)}</svg>')


def render(stats: Statistics, directory: Path) -> list[Path]:
    """Write one SVG file per figure into `directory`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    share = stats.free_mail_sender_share
    figures = [
        ("reports-per-month", "Reports received per month", stats.reports_per_month, False),
        ("attachment-types", "Attachment file types", stats.attachment_types, False),
        ("c2-countries", "C2 locations by country", stats.c2_countries, False),
        ("free-mail-senders", "Senders at free-mail providers",
         {} if share is None else {"free-mail": share, "other": round(1 - share, 3)}, True),
    ]
    written = []
    for name, title, values, percent in figures:
        path = directory / f"{name}.svg"
        path.write_text(bar_chart_svg(title, values or {"(none)": 0}, percent=percent, standalone=True) + "\n",
                        encoding="utf-8")
        written.append(path)
    return written
