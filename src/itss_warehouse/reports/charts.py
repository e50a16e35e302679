"""Charts for the reports, as SVG markup to place inline in the HTML (and so in the PDF).

Text is drawn as paths, so a chart looks the same in a mail client without CJK fonts;
ids are salted and no date is written, so the same figures give the same bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot  # noqa: E402  (after choosing the headless backend)
from matplotlib.typing import RcKeyType  # noqa: E402

from itss_warehouse.reports.formatting import format_percent, format_score  # noqa: E402
from itss_warehouse.reports.pdf import CJK_FAMILY  # noqa: E402

STYLE: dict[RcKeyType, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [CJK_FAMILY, "DejaVu Sans"],
    "font.size": 8,
    "svg.fonttype": "path",
    "svg.hashsalt": "itss-report",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
SIZE = (6.5, 2.4)  # inches: the width of an A4 text column
COLOURS = ["#1f4e79", "#2e75b6", "#9dc3e6", "#c9c9c9"]
# Above the axes, never over the data.
LEGEND_ABOVE: dict[str, Any] = {"loc": "lower center", "bbox_to_anchor": (0.5, 1.0), "frameon": False}


def rate_against_target(labels: Sequence[str], rates: Sequence[Decimal | None], target: Decimal | None,
                        *, rate_label: str, target_label: str) -> str:  # fmt: skip
    """A line of monthly rates (0..1, None where not applicable) with the target as a dashed line."""
    with pyplot.rc_context(STYLE):
        figure, axes = pyplot.subplots(figsize=SIZE)
        points = [(index, float(rate) * 100) for index, rate in enumerate(rates) if rate is not None]
        if points:
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", color=COLOURS[0], label=rate_label)
        if target is not None:
            axes.axhline(float(target) * 100, linestyle="--", color="#b42318", label=target_label)
        axes.set_xticks(range(len(labels)), labels)
        axes.set_xlim(-0.5, len(labels) - 0.5)
        axes.set_ylabel("%")
        if points or target is not None:
            axes.legend(**LEGEND_ABOVE, ncols=2)
        return _svg(figure, "rate")


def rates_by_label(labels: Sequence[str], rates: Sequence[Decimal | None], target: Decimal | None,
                   *, rate_label: str, target_label: str) -> str:  # fmt: skip
    """Bars of rates (0..1, None where not applicable), one per label (e.g. priority), with the target dashed."""
    with pyplot.rc_context(STYLE):
        figure, axes = pyplot.subplots(figsize=SIZE)
        heights = [float(rate) * 100 if rate is not None else 0.0 for rate in rates]
        axes.bar(range(len(labels)), heights, color=COLOURS[1], width=0.6, label=rate_label)
        for position, rate in enumerate(rates):
            if rate is not None:  # the value as the table rounds it
                axes.text(position, float(rate) * 100 + 1, format_percent(rate), ha="center", va="bottom")
        if target is not None:
            axes.axhline(float(target) * 100, linestyle="--", color="#b42318", label=target_label)
        axes.set_xticks(range(len(labels)), labels)
        axes.set_ylim(0, 110)
        axes.set_ylabel("%")
        axes.legend(**LEGEND_ABOVE, ncols=2)
        return _svg(figure, "priority")


def stacked_counts(labels: Sequence[str], series: dict[str, Sequence[int]], *, ylabel: str) -> str:
    """Stacked bars of counts per period, one colour per series (e.g. priority)."""
    with pyplot.rc_context(STYLE):
        figure, axes = pyplot.subplots(figsize=SIZE)
        bottom = [0] * len(labels)
        for colour, (name, counts) in zip(COLOURS, series.items(), strict=False):
            axes.bar(range(len(labels)), counts, bottom=bottom, color=colour, label=name, width=0.6)
            bottom = [below + count for below, count in zip(bottom, counts, strict=True)]
        axes.set_xticks(range(len(labels)), labels)
        axes.set_ylabel(ylabel)
        axes.locator_params(axis="y", integer=True)
        axes.legend(**LEGEND_ABOVE, ncols=len(series))
        return _svg(figure, "counts")


def lines(labels: Sequence[str], series: dict[str, Sequence[int]], *, ylabel: str) -> str:
    """One line per series over the same labels (e.g. open and overdue tickets per day)."""
    with pyplot.rc_context(STYLE):
        figure, axes = pyplot.subplots(figsize=SIZE)
        for colour, (name, values) in zip(COLOURS, series.items(), strict=False):
            axes.plot(range(len(labels)), values, color=colour, label=name)
        step = max(1, len(labels) // 10)  # at most about ten tick labels
        axes.set_xticks(range(0, len(labels), step), labels[::step])
        axes.set_ylabel(ylabel)
        # A scale of whole tickets even when there are none (matplotlib would label 0.00 to 0.05).
        highest = max([1, *(float(value) for values in series.values() for value in values)])
        axes.set_ylim(bottom=0, top=highest * 1.05)
        axes.locator_params(axis="y", integer=True)
        axes.legend(**LEGEND_ABOVE, ncols=len(series))
        return _svg(figure, "lines")


def scores_by_item(items: Sequence[str], scores: Sequence[Decimal], *, xlabel: str) -> str:
    """Horizontal bars of 0–100 scores, one per item, labelled with their value."""
    with pyplot.rc_context(STYLE):
        figure, axes = pyplot.subplots(figsize=(SIZE[0], 0.6 + 0.3 * max(len(items), 1)))
        positions = range(len(items))
        axes.barh(positions, [float(score) for score in scores], color=COLOURS[1], height=0.6)
        axes.set_yticks(positions, items)
        axes.invert_yaxis()  # first item on top, as in the table
        axes.set_xlim(0, 100)
        axes.set_xlabel(xlabel)
        for position, score in zip(positions, scores, strict=True):
            # The table's rounding (half up), not Python's half-even: 86.25 is 86.3 in both.
            axes.text(float(score) + 1, position, format_score(score), va="center")
        return _svg(figure, "items")


def _svg(figure, name: str) -> str:
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    pyplot.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # inline: without the XML declaration and doctype
    # Several charts share one page: prefix their element ids so they do not collide.
    return re.sub(r'(id="|href="#|url\(#)', rf"\g<1>{name}-", text)
