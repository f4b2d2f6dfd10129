"""Charts as PNG bytes, drawn with matplotlib without any GUI (the Agg canvas, no pyplot).

matplotlib takes a while to import, so it is imported on the first chart, not with the bot.
Drawing is slow enough (tens of milliseconds) to be done off the event loop: `bar_chart_png`
runs the drawing in a worker thread, one chart at a time (matplotlib's settings are global).
The font is DejaVu Sans, which ships with matplotlib and has every Vietnamese letter.
"""

from __future__ import annotations

import asyncio
import io
import textwrap
import threading
from collections.abc import Sequence

WIDTH_PX, HEIGHT_PX, DPI = 800, 400, 100
FONT = "DejaVu Sans"
PAST, CURRENT, INK = "#9fb8d0", "#c8102e", "#333333"  # bars before, the period itself, text
TITLE_WIDTH = 60  # characters per title line
_LOCK = threading.Lock()


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """One bar per label, the last one (the period the chart is about) stressed, each bar with
    its number on top; WIDTH_PX × HEIGHT_PX pixels."""
    if len(labels) != len(values):
        raise ValueError("one label per value")
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    settings = {"font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": 11,
                "text.color": INK, "axes.labelcolor": INK, "xtick.color": INK,
                "ytick.color": INK}
    with _LOCK, matplotlib.rc_context(settings):
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        colours = [PAST] * (len(values) - 1) + [CURRENT] if values else []
        positions = list(range(len(values)))
        bars = axes.bar(positions, list(values), color=colours, width=0.65)
        axes.bar_label(bars, labels=[str(v) for v in values], padding=3, fontsize=12,
                       fontweight="bold")
        axes.set_xticks(positions, list(labels), fontsize=10)
        axes.set_ylim(0, max([*values, 1]) * 1.22)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.set_title("\n".join(textwrap.wrap(title, TITLE_WIDTH)), fontsize=13,
                       fontweight="bold", loc="left")
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


async def bar_chart_png(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """`bar_chart`, drawn in a worker thread so that the bot keeps answering meanwhile."""
    return await asyncio.to_thread(bar_chart, title, labels, values)
