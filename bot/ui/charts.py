"""Charts as PNG bytes, drawn with matplotlib without any GUI (the Agg canvas, no pyplot).

matplotlib takes a while to import, and with numpy it is 40 MB of a process's memory, so the
bot does not load it: `bar_chart_png` has the chart drawn by a process of its own (this module
run as a program, started with the first chart, one chart at a time, matplotlib's settings
being global), waiting on it from a worker thread so that the bot keeps answering meanwhile.
Should it die, the next chart starts another.
The font is DejaVu Sans, which ships with matplotlib and has every Vietnamese letter.

A province's Monday draws 5,000 charts, so each is cheap: one Figure per number of bars is made
once and kept, each chart only changes its bars' heights, the texts and the limits; the layout
is fixed (no tight_layout, which draws everything once more to measure it); the numbers on the
bars make a y axis needless; and the PNG is compressed lightly (a chart is flat colours).
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

WIDTH_PX, HEIGHT_PX, DPI = 800, 400, 100
FONT = "DejaVu Sans"
PAST, CURRENT, INK = "#9fb8d0", "#c8102e", "#333333"  # bars before, the period itself, text
TITLE_WIDTH = 60  # characters per title line
PNG_COMPRESSION = 1  # zlib level: 6 (the default) takes longer for a file hardly smaller
SETTINGS: dict[RcKeyType, Any] = {
    "font.family": "sans-serif", "font.sans-serif": [FONT], "font.size": 11,
    "text.color": INK, "axes.labelcolor": INK, "xtick.color": INK, "ytick.color": INK}
_LOCK = threading.Lock()


@dataclass
class _Chart:
    """A figure with `bars` bars, kept to draw every chart with that many."""

    figure: Any
    axes: Any
    bars: list[Any]
    numbers: list[Any]  # the number above each bar


_CHARTS: dict[int, _Chart] = {}


def _chart(bars: int) -> _Chart:
    """The kept figure with this many bars (made on first use, within the settings)."""
    if bars not in _CHARTS:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(bars))
        colours = [PAST] * (bars - 1) + [CURRENT] if bars else []
        rectangles = list(axes.bar(positions, [0] * bars, color=colours, width=0.65))
        numbers = [axes.annotate("", xy=(x, 0), xytext=(0, 3), textcoords="offset points",
                                 ha="center", va="bottom", fontsize=12, fontweight="bold")
                   for x in positions]
        axes.set_xticks(positions, [""] * bars, fontsize=10)
        axes.set_xlim(-0.6, bars - 0.4)
        axes.yaxis.set_visible(False)
        for side in ("top", "right", "left"):
            axes.spines[side].set_visible(False)
        _CHARTS[bars] = _Chart(figure, axes, rectangles, numbers)
    return _CHARTS[bars]


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """One bar per label, the last one (the period the chart is about) stressed, each bar with
    its number on top; WIDTH_PX × HEIGHT_PX pixels."""
    if len(labels) != len(values):
        raise ValueError("one label per value")
    import matplotlib

    title_lines = textwrap.wrap(title, TITLE_WIDTH) or [""]
    with _LOCK, matplotlib.rc_context(SETTINGS):
        chart = _chart(len(values))
        for bar, number, value in zip(chart.bars, chart.numbers, values, strict=True):
            bar.set_height(value)
            number.xy = (bar.get_x() + bar.get_width() / 2, value)
            number.set_text(str(value))
        chart.axes.set_xticklabels(list(labels))
        chart.axes.set_ylim(0, max([*values, 1]) * 1.15)
        chart.axes.set_title("\n".join(title_lines), loc="left", fontsize=13,
                             fontweight="bold")
        # Room above for the title's lines, below for two-line labels (fixed: no measuring).
        top = 1 - (16 + 22 * len(title_lines)) / HEIGHT_PX
        chart.figure.subplots_adjust(left=0.02, right=0.98, bottom=0.13, top=top)
        out = io.BytesIO()
        chart.figure.savefig(out, format="png", dpi=DPI,
                             pil_kwargs={"compress_level": PNG_COMPRESSION})
    return out.getvalue()


async def bar_chart_png(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """`bar_chart`, drawn by the drawing process, waited on in a worker thread."""
    return await asyncio.to_thread(_DRAWER.draw, title, list(labels), list(values))


# --- the drawing process ------------------------------------------------------------------------

_SIZE = struct.Struct("!I")  # each message: its length, then a JSON request or the PNG
FAILED = b"!"  # the first byte of an answer that is an error's words, not a PNG


class _Drawer:
    """The drawing process, started when first asked; one chart at a time."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def draw(self, title: str, labels: list[str], values: list[int]) -> bytes:
        request = json.dumps([title, labels, values]).encode()
        with self._lock:
            try:
                answer = self._asked(request)
            except (OSError, EOFError):  # it died (killed, out of memory): once more, anew
                self._process = None
                answer = self._asked(request)
        if answer.startswith(FAILED):
            raise ValueError(answer[1:].decode(errors="replace"))
        return answer

    def _asked(self, request: bytes) -> bytes:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen([sys.executable, "-m", __name__],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self._process.stdin is not None and self._process.stdout is not None
        _write(self._process.stdin, request)
        return _read(self._process.stdout)


def _write(pipe: IO[bytes], data: bytes) -> None:
    pipe.write(_SIZE.pack(len(data)) + data)
    pipe.flush()


def _read(pipe: IO[bytes]) -> bytes:
    head = pipe.read(_SIZE.size)
    if len(head) < _SIZE.size:
        raise EOFError("the drawing process has gone")
    (size,) = _SIZE.unpack(head)
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError("the drawing process has gone")
    return data


_DRAWER = _Drawer()


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The drawing process: a chart for each request, until the bot closes its end."""
    while True:
        try:
            title, labels, values = json.loads(_read(requests))
        except EOFError:
            return
        try:
            answer = bar_chart(title, labels, values)
        except Exception as error:  # the bot says which unit's chart, and goes on
            answer = FAILED + repr(error).encode()
        _write(answers, answer)


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
