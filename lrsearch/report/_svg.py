"""A trial's picture as SVG text: the same two panels as :func:`draw_trial`, in about a
millisecond and without importing matplotlib.

Every trial of ``lrsearch tune`` gets this picture as an Optuna artifact while the next trial
trains, so it must cost next to nothing: matplotlib costs 0.4 s to import and 80-90 ms per
PNG, which on small trials is 10-15% of the run (``benchmarks/bench_throughput.py --tools
lrsearch,lrsearch-nopic``). The picture is plain line charts, which SVG states directly::

    x_pixel = left + (epoch - 1) / (epochs - 1) * width
    y_pixel = bottom - (f(v) - f(lo)) / (f(hi) - f(lo)) * height   # f = log10 on a log axis

A series spanning more than 20x (all values positive) is drawn on a log axis, as in
:func:`draw_trial`; ``None`` (NaN, infinite) breaks its line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from lrsearch.report._trial import TrialInfo

#: a positive series spanning more than this ratio is drawn on a log axis
LOG_RATIO = 20.0
WIDTH, HEIGHT = 800, 320
_PANEL = (62.0, 300.0)  # each panel's left margin and plot width (pixels)
_TOP, _BOTTOM = 48.0, 276.0
COLORS = {"lr": "#1f77b4", "loss": "#7f7f7f", "val_loss": "#d62728", "best": "#2ca02c"}


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _is_log(values: Sequence[float | None]) -> bool:
    pos = _finite(values)
    return bool(pos) and min(pos) > 0 and max(pos) / min(pos) > LOG_RATIO


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]`` (steps of 1, 2 or 5 times a power of ten)."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    return [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]


def _label(v: float) -> str:
    return f"{v:.3g}"


class _Axis:
    """Maps a value range onto the panel's pixels (linear, or log10)."""

    def __init__(self, values: Sequence[float | None]) -> None:
        finite = _finite(values) or [0.0, 1.0]
        self.log = _is_log(values)
        lo, hi = min(finite), max(finite)
        if self.log:
            self.lo, self.hi = math.log10(lo), math.log10(hi)
        else:
            pad = (hi - lo) * 0.05 or abs(hi) * 0.1 or 1.0
            self.lo, self.hi = lo - pad, hi + pad
        if self.hi - self.lo < 1e-12:
            self.lo, self.hi = self.lo - 0.5, self.hi + 0.5

    def y(self, v: float) -> float:
        f = math.log10(v) if self.log else v
        return _BOTTOM - (f - self.lo) / (self.hi - self.lo) * (_BOTTOM - _TOP)

    def ticks(self) -> list[float]:
        if self.log:
            first, last = math.floor(self.lo), math.ceil(self.hi)
            decades = [10.0**d for d in range(first, last + 1)]
            return [t for t in decades if self.lo - 1e-9 <= math.log10(t) <= self.hi + 1e-9]
        return _nice_ticks(self.lo, self.hi)


def _panel(
    left: float,
    title: str,
    epochs: list[int],
    series: list[tuple[str, Sequence[float | None], str]],
    info: TrialInfo,
    legend: bool,
) -> list[str]:
    width = _PANEL[1]
    n = max(1, len(epochs))
    axis = _Axis([v for _, values, _ in series for v in values])

    def x(epoch: float) -> float:
        return left + (epoch - 1) / max(1, n - 1) * width

    out = [
        f'<rect x="{left}" y="{_TOP}" width="{width}" height="{_BOTTOM - _TOP}" fill="none" '
        'stroke="#444" stroke-width="0.8"/>',
        f'<text x="{left + width / 2}" y="{_TOP - 8}" text-anchor="middle">{escape(title)}'
        + (" (log scale)" if axis.log else "")
        + "</text>",
        f'<text x="{left + width / 2}" y="{_BOTTOM + 32}" text-anchor="middle">epoch</text>',
    ]
    for t in axis.ticks():
        y = axis.y(t)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{_label(t)}</text>'
        )
    every = max(1, math.ceil(n / 10))
    for e in epochs[::every]:
        out.append(f'<text x="{x(e):.1f}" y="{_BOTTOM + 15}" text-anchor="middle">{e}</text>')
    marks = [(info.best_epoch, COLORS["best"], "3,3"), (info.stopped_epoch, "#d62728", "")]
    for epoch, color, dashes in marks:
        if epoch is not None:
            out.append(
                f'<line x1="{x(epoch):.1f}" y1="{_TOP}" x2="{x(epoch):.1f}" y2="{_BOTTOM}" '
                f'stroke="{color}" stroke-width="1.2" stroke-dasharray="{dashes}"/>'
            )
    for _name, values, color in series:
        segment: list[str] = []
        for e, v in zip(epochs, values, strict=False):
            if v is None:
                out.extend(_line(segment, color))
                segment = []
                continue
            px, py = x(e), axis.y(v)
            segment.append(f"{px:.1f},{py:.1f}")
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{color}"/>')
        out.extend(_line(segment, color))
    if legend:
        best = None
        if info.best_epoch is not None and info.best_epoch <= len(info.val_loss):
            best = info.val_loss[info.best_epoch - 1]
        if best is not None:
            bx, by = x(info.best_epoch or 1), axis.y(best)
            out.append(
                f'<text x="{bx:.1f}" y="{by + 6:.1f}" text-anchor="middle" font-size="18" '
                f'fill="{COLORS["best"]}">&#9733;</text>'
            )
        entries = [(name, color) for name, _, color in series]
        if best is not None:
            entries.append(("best", COLORS["best"]))
        for i, (name, color) in enumerate(entries):
            y = _TOP + 14 + 15 * i
            out.append(
                f'<line x1="{left + width - 86}" y1="{y - 4}" x2="{left + width - 66}" '
                f'y2="{y - 4}" stroke="{color}" stroke-width="2"/>'
                f'<text x="{left + width - 60}" y="{y}">{escape(name)}</text>'
            )
    return out


def _line(points: list[str], color: str) -> list[str]:
    if len(points) < 2:
        return []
    return [
        f'<polyline points="{" ".join(points)}" fill="none" stroke="{color}" stroke-width="1.6"/>'
    ]


def trial_svg(info: TrialInfo) -> bytes:
    """The trial's picture as SVG: the learning rate, and training vs validation loss, per
    epoch; the best epoch dotted green with a star, a pruned or diverged trial's last epoch
    red, in the title how it stopped."""
    title = info.title
    if info.stopped is not None:
        title += f" ({info.stopped} after epoch {info.stopped_epoch})"
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif" '
        'font-size="11">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="13">{escape(title)}</text>',
        *_panel(
            _PANEL[0],
            "learning rate",
            info.epochs,
            [("learning_rate", info.learning_rate, COLORS["lr"])],
            info,
            legend=False,
        ),
        *_panel(
            _PANEL[0] + _PANEL[1] + 100,
            "training vs validation loss",
            info.epochs,
            [("loss", info.loss, COLORS["loss"]), ("val_loss", info.val_loss, COLORS["val_loss"])],
            info,
            legend=True,
        ),
        "</svg>",
    ]
    return "\n".join(body).encode()
