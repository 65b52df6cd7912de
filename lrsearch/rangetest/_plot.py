"""Drawing a range-test curve with matplotlib (imported here only, lazily)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Protocol

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes


class LRFinderResult(Protocol):
    """What the plot reads of a :class:`lrsearch.rangetest.LRFinderResult` (no import of it:
    the result's ``plot`` imports this module)."""

    @property
    def lrs(self) -> list[float]: ...
    @property
    def losses(self) -> list[float]: ...
    @property
    def suggested_lr(self) -> float | None: ...
    @property
    def method(self) -> str | None: ...
    @property
    def diverged_lr(self) -> float | None: ...
    @property
    def confident(self) -> bool: ...
    @property
    def reason(self) -> str: ...


def new_axes() -> Axes:
    """A fresh figure's axes; selects the Agg backend first when no backend was chosen."""
    import matplotlib

    if matplotlib.rcParams._get_backend_or_none() is None:  # type: ignore[attr-defined]
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
    return ax


def plot_curve(
    lrs: Sequence[float],
    losses: Sequence[float],
    *,
    ax: Axes | None = None,
    label: str | None = None,
) -> Axes:
    """Plot one loss curve against the learning rate, log x-axis; returns the axes."""
    if ax is None:
        ax = new_axes()
    ax.plot(lrs, losses, label=label)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss (smoothed)")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_result(
    result: LRFinderResult, *, ax: Axes | None = None, label: str | None = None
) -> Axes:
    """Plot a :class:`LRFinderResult`: smoothed loss, suggestion and divergence marked."""
    had_lines = ax is not None and bool(ax.get_lines())
    ax = plot_curve(result.lrs, result.losses, ax=ax, label=label or "smoothed loss")
    color = ax.get_lines()[-1].get_color()
    prefix = f"{label}: " if label else ""
    if result.suggested_lr is not None:
        note = "" if result.confident else ", not confident"
        ax.axvline(
            result.suggested_lr,
            color=color,
            linestyle="--",
            label=f"{prefix}suggested lr {result.suggested_lr:.3g} ({result.method}{note})",
        )
    if result.diverged_lr is not None:
        ax.axvline(
            result.diverged_lr,
            color=color,
            linestyle=":",
            alpha=0.7,
            label=f"{prefix}diverged at {result.diverged_lr:.3g}",
        )
    if not ax.get_title():
        title = "Learning-rate range test"
        if result.suggested_lr is None:
            title += f": no suggestion ({result.reason})" if result.reason else ""
        ax.set_title(title, fontsize="medium")
    # Keep the exploding tail from flattening the interesting part of the curve.
    finite = [v for v in result.losses if math.isfinite(v)]
    if finite:
        low, high = min(finite), max(finite[: max(1, len(finite) // 10)])
        pad = 0.1 * ((high - low) or abs(low) or 1.0)
        bottom, top = low - pad, high + pad
        if had_lines:  # several curves on one axes: keep the others in view
            old_bottom, old_top = ax.get_ylim()
            bottom, top = min(bottom, old_bottom), max(top, old_top)
        ax.set_ylim(bottom, top)
    ax.legend(loc="best", fontsize="small")
    return ax
