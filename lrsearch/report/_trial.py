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
    import optuna
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


def plot_train_vs_val(study: optuna.Study, *, ax: Axes | None = None) -> list[Axes]:
    """The articles' per-run view of each family's best trial: training (dashed) vs
    validation (solid) loss, and accuracy (MAE for regression), per epoch; one colour per family.

    Drawn as two panels in the place of ``ax`` (a new figure when ``None``); the loss panel is
    on a log axis when the losses span more than 20x. Returns the two axes.
    """
    from lrsearch.report._info import best_curves
    from lrsearch.report._info import lrsearch_trials
    from lrsearch.report._plots import _integer_epochs
    from lrsearch.report._plots import family_color
    from lrsearch.report._plots import legend_outside
    from lrsearch.report._plots import new_axes
    from lrsearch.tasks import METRIC_LABEL
    from lrsearch.tasks import history_metric

    metric = "accuracy"
    for t in lrsearch_trials(study):
        history = t.user_attrs.get("history")
        if isinstance(history, dict) and history:
            metric = history_metric(history)
            break
    if ax is None:
        ax = new_axes((11.0, 4.8))
    fig = ax.get_figure()
    assert fig is not None
    grid = ax.get_subplotspec()
    assert grid is not None
    cells = grid.subgridspec(1, 2, wspace=0.25)
    fig.delaxes(ax)
    panels = [fig.add_subplot(cells[0]), fig.add_subplot(cells[1])]
    for panel, key, label in (
        (panels[0], "loss", "loss"),
        (panels[1], metric, METRIC_LABEL[metric]),
    ):
        values: list[float | None] = []
        for dashed, name in ((True, key), (False, f"val_{key}")):
            for c in best_curves(study, name):
                panel.plot(
                    c.epochs,
                    c.mean,
                    color=family_color(c.family),
                    linestyle="--" if dashed else "-",
                    linewidth=1.2 if dashed else 1.8,
                    label=None if dashed else c.label,
                )
                values += [v if math.isfinite(v) else None for v in c.mean]
        if key == "loss":
            _log_if_wide(panel, values)
        panel.set_xlabel("epoch")
        _integer_epochs(panel)
        panel.set_ylabel(label)
        panel.set_title(f"training (dashed) vs validation (solid) {label}", fontsize="medium")
        panel.grid(True, alpha=0.3)
    legend_outside(panels[1], title="family (best trial)")
    return panels
