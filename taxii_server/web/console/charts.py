"""The statistics page's charts: the hub's SVG bar charts (hub/charts.py) inline, with member text shown the
console's way (presenters.visible). No image files, no script, no inline styles (the Content-Security-Policy
allows neither).
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup

from ...hub.charts import LABEL_CHARS, bar_chart_svg
from .presenters import visible


def bar_chart(title: str, values: Mapping[str, int | float], empty: str, percent: bool = False) -> Markup:
    """A horizontal bar chart, or the `empty` sentence when there is nothing to draw."""
    if not values:
        return Markup('<p class="empty">{}</p>').format(empty)
    # bar_chart_svg escapes every text it draws.
    return Markup(bar_chart_svg(str(title), values, percent=percent,  # noqa: S704
                                label=lambda text: visible(text, LABEL_CHARS)))
