"""One trial's picture: its learning rate and its training and validation loss per epoch.

Data first (:func:`trial_info` reads a trial's ``history`` and how it ended), then drawing
(:func:`draw_trial` on a matplotlib ``Figure``; :func:`trial_png` renders it to PNG bytes).
The dashboard stores the PNG as an Optuna artifact of every trial
(:mod:`lrsearch.dashboard`); ``report`` draws the same per-epoch histories of each family's
best trial in ``train_vs_val.png`` (:func:`plot_train_vs_val`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: a positive series spanning more than this ratio is drawn on a log axis
_LOG_RATIO = 20.0


class TrialInfo(NamedTuple):
    """What :func:`draw_trial` draws: per-epoch series (1-based epochs) and how it ended.

    ``best_epoch`` is the epoch of the lowest ``val_loss``; ``stopped`` says how the trial
    ended early (``"pruned"``, ``"diverged"``) or ``None``; ``stopped_epoch`` is the last
    epoch recorded then.
    """

    title: str
    epochs: list[int]
    learning_rate: list[float | None]
    loss: list[float | None]
    val_loss: list[float | None]
    best_epoch: int | None
    stopped: str | None
    stopped_epoch: int | None


def _clean(values: Sequence[Any]) -> list[float | None]:
    out: list[float | None] = []
    for v in values:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        out.append(float(v) if ok else None)
    return out


def trial_info(
    history: Mapping[str, Sequence[Any]],
    *,
    title: str = "",
    pruned_reason: str | None = None,
) -> TrialInfo:
    """The picture's data from a trial's ``history`` attribute and its ``pruned_reason``."""
    lr = _clean(history.get("learning_rate", []))
    loss = _clean(history.get("loss", []))
    val = _clean(history.get("val_loss", []))
    n = max(len(lr), len(loss), len(val))
    finite = [(v, i + 1) for i, v in enumerate(val) if v is not None]
    best = min(finite)[1] if finite else None
    stopped = None
    if pruned_reason:
        stopped = "diverged" if pruned_reason.startswith("diverged") else "pruned"
    return TrialInfo(
        title,
        list(range(1, n + 1)),
        lr,
        loss,
        val,
        best,
        stopped,
        n if stopped else None,
    )


def _log_if_wide(ax: Axes, values: Sequence[float | None]) -> None:
    pos = [v for v in values if v is not None and v > 0]
    if pos and all(v is None or v > 0 for v in values) and max(pos) / min(pos) > _LOG_RATIO:
        ax.set_yscale("log")


def _series(ax: Axes, x: list[int], y: list[float | None], **kwargs: Any) -> None:
    ax.plot(x[: len(y)], [math.nan if v is None else v for v in y], **kwargs)


def draw_trial(info: TrialInfo, fig: Figure) -> Figure:
    """Two panels on ``fig``: the learning rate, and training vs validation loss per epoch.

    The best epoch (lowest ``val_loss``) is marked with a dotted line and a star; a pruned or
    diverged trial gets a red line at the epoch it stopped.
    """
    ax_lr, ax_loss = fig.subplots(1, 2)
    x = info.epochs
    _series(ax_lr, x, info.learning_rate, color="#1f77b4", marker="o", markersize=3)
    _log_if_wide(ax_lr, info.learning_rate)
    ax_lr.set_title("learning rate", fontsize="medium")
    _series(ax_loss, x, info.loss, color="#7f7f7f", marker="o", markersize=3, label="loss")
    _series(ax_loss, x, info.val_loss, color="#d62728", marker="o", markersize=3, label="val_loss")
    _log_if_wide(ax_loss, [*info.loss, *info.val_loss])
    ax_loss.set_title("training vs validation loss", fontsize="medium")
    for ax in (ax_lr, ax_loss):
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if info.best_epoch is not None:
            ax.axvline(info.best_epoch, color="#2ca02c", linestyle=":", linewidth=1.2)
        if info.stopped_epoch is not None:
            ax.axvline(info.stopped_epoch, color="#d62728", linewidth=1.2)
    if info.best_epoch is not None:
        best = info.val_loss[info.best_epoch - 1]
        ax_loss.plot([info.best_epoch], [best], "*", color="#2ca02c", markersize=10, label="best")
    ax_loss.legend(fontsize="small")
    title = info.title
    if info.stopped is not None:
        title += f" ({info.stopped} after epoch {info.stopped_epoch})"
    fig.suptitle(title, fontsize="medium")
    return fig


def trial_png(info: TrialInfo, *, dpi: int = 72) -> bytes:
    """:func:`draw_trial` rendered as PNG bytes (no pyplot, no window)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 3.2))
    draw_trial(info, fig)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.84, wspace=0.22)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
