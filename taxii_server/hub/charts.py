"""PNG charts of the statistics (matplotlib, headless), for the hub's activity report."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .stats import Statistics


def _bar(path: Path, title: str, values: Mapping[str, int | float], ylabel: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    try:
        labels = list(values) or ["(none)"]
        axes.bar(labels, [values[k] for k in values] or [0], color="#2b6cb0")
        axes.set_title(title)
        axes.set_ylabel(ylabel)
        axes.tick_params(axis="x", labelrotation=30)
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
    return path


def render(stats: Statistics, directory: Path) -> list[Path]:
    """Write one PNG per figure into `directory`; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    share = stats.free_mail_sender_share
    return [
        _bar(directory / "reports-per-month.png", "Reports received per month", stats.reports_per_month, "reports"),
        _bar(directory / "attachment-types.png", "Attachment file types", stats.attachment_types, "reports"),
        _bar(directory / "c2-countries.png", "C2 locations by country", stats.c2_countries, "reports"),
        _bar(directory / "free-mail-senders.png", "Senders at free-mail providers",
             {} if share is None else {"free-mail": share, "other": round(1 - share, 3)}, "share of senders"),
    ]
