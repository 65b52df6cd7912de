"""Drawing the report's plots with matplotlib (imported here only, lazily).

Every ``plot_*`` function takes what it draws (a study, or :class:`Curve` lists), an optional
``ax`` and returns the ``Axes`` it drew on. Without ``ax`` a new figure is made (the Agg backend
is selected first when no backend was chosen, so no window ever opens); nothing is shown.
The data come from :mod:`lrsearch.report._info`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.report._info import METRICS
from lrsearch.report._info import Curve
from lrsearch.report._info import best_curves
from lrsearch.report._info import family_bests
from lrsearch.report._info import importance_info
from lrsearch.report._info import label_order
from lrsearch.report._info import optimization_history_info
from lrsearch.schedules import FAMILIES

if TYPE_CHECKING:  # pragma: no cover
    import optuna
    from matplotlib.axes import Axes

#: one colour per family, in registry order (tab10, then three more far from those)
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#000000",
    "#a6cee3",
    "#fdbf6f",
)

#: line style per optimizer (a family searched with two optimizers keeps its colour)
LINESTYLES = {
    "sgd": "-",
    "nesterov": "-.",
    "adam": "--",
    "rmsprop": ":",
    "adagrad": (0, (5, 1, 1, 1)),
    "adadelta": (0, (1, 1)),
}

#: scatter marker per optimizer (a family searched with two optimizers keeps its colour)
MARKERS = {
    "sgd": "o",
    "nesterov": "D",
    "adam": "s",
    "rmsprop": "^",
    "adagrad": "v",
    "adadelta": "P",
}

#: axis labels and titles per metric
_METRIC_TEXT = {
    "learning_rate": ("learning rate", "Learning-rate curves"),
    "loss": ("training loss", "Training loss"),
    "val_loss": ("validation loss", "Validation loss"),
    "accuracy": ("training accuracy", "Training accuracy"),
    "val_accuracy": ("validation accuracy", "Validation accuracy"),
    "mae": ("training mean absolute error", "Training MAE"),
    "val_mae": ("validation mean absolute error", "Validation MAE"),
}

#: a y-axis spanning more than this ratio (all values positive) gets a log scale
LOG_RATIO = 20.0
FIGSIZE = (8.5, 4.8)


def family_color(family: str) -> str:
    """The colour of ``family`` in every plot (grey for a family not in the registry)."""
    try:
        return PALETTE[FAMILIES.index(family) % len(PALETTE)]
    except ValueError:
        return "#555555"


def optimizer_linestyle(optimizer: str) -> Any:
    """The line style of ``optimizer`` (solid for SGD)."""
    return LINESTYLES.get(optimizer, "-")


def new_axes(figsize: tuple[float, float] = FIGSIZE) -> Axes:
    """A fresh figure's axes; selects the Agg backend first when no backend was chosen."""
    import matplotlib

    if matplotlib.rcParams._get_backend_or_none() is None:  # type: ignore[attr-defined]
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


def wants_log(values: Sequence[float], ratio: float = LOG_RATIO) -> bool:
    """Whether values (all positive) span more than ``ratio``: then a log axis reads better."""
    vals = _finite(values)
    if not vals or min(vals) <= 0:
        return False
    return max(vals) / min(vals) > ratio


def _robust_top(values: Sequence[float]) -> float | None:
    """An upper y-limit that keeps one exploding epoch from flattening every other curve."""
    vals = sorted(_finite(values))
    if len(vals) < 5:
        return None
    q90 = vals[int(0.9 * (len(vals) - 1))]
    if q90 > 0 and vals[-1] > 4 * q90:
        return 1.5 * q90
    return None


def legend_outside(ax: Axes, *, title: str | None = None) -> None:
    """The legend to the right of the axes, where it covers no data."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        borderaxespad=0.0,
        fontsize="small",
        title=title,
        title_fontsize="small",
        frameon=False,
    )


def _integer_epochs(ax: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _empty(ax: Axes, title: str, message: str) -> Axes:
    ax.set_title(title, fontsize="medium")
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def plot_curves(
    curves: Sequence[Curve],
    *,
    metric: str,
    ax: Axes | None = None,
    title: str | None = None,
    log: bool | None = None,
) -> Axes:
    """Per-epoch curves (mean line, and mean +- std band where a curve has a spread).

    Args:
        curves: what to draw (:func:`lrsearch.report.best_curves`, or a compare result's).
        metric: one of ``learning_rate, loss, val_loss, accuracy, val_accuracy``: labels the
            y-axis.
        ax: the axes to draw on (a new figure when ``None``).
        title: the title (a default naming the metric).
        log: log y-axis; ``None`` picks it when the values span more than 20x (the learning
            rate of decaying schedules).

    Returns:
        The axes drawn on.
    """
    if metric not in METRICS:
        raise ValueError(
            f"Argument `metric` must be one of {', '.join(METRICS)}. Received: {metric!r}"
        )
    if ax is None:
        ax = new_axes()
    ylabel, default_title = _METRIC_TEXT[metric]
    title = title or default_title
    if not curves:
        return _empty(ax, title, f"no {ylabel} recorded")
    many_epochs = max(len(c.epochs) for c in curves) > 40
    if log is None:  # decided from the means and the bands' tops, before drawing the bands
        tops = [
            m + s for c in curves if c.std is not None for m, s in zip(c.mean, c.std, strict=True)
        ]
        log = wants_log([v for c in curves for v in c.mean] + tops)
    all_values: list[float] = []
    for c in curves:
        color = family_color(c.family)
        ax.plot(
            c.epochs,
            c.mean,
            color=color,
            linestyle=optimizer_linestyle(c.optimizer),
            linewidth=1.8,
            marker=None if many_epochs else "o",
            markersize=3.5,
            label=c.label,
        )
        all_values += c.mean
        if c.std is not None and c.runs > 1:
            low = [m - s for m, s in zip(c.mean, c.std, strict=True)]
            high = [m + s for m, s in zip(c.mean, c.std, strict=True)]
            if log:  # the band mirrored in log space: it never crosses below the axis
                low = [
                    m * m / (m + s) if m > 0 and s > 0 else m
                    for m, s in zip(c.mean, c.std, strict=True)
                ]
            elif metric == "learning_rate":  # a band below zero means nothing on a rate
                low = [max(v, 0.0) for v in low]
            ax.fill_between(c.epochs, low, high, color=color, alpha=0.18, linewidth=0)
            all_values += [v for v in low if v > 0] + high
    if log:
        ax.set_yscale("log")
        ylabel += " (log scale)"
    else:
        top = _robust_top(all_values)
        if top is not None:
            bottom = min(_finite(all_values))
            ax.set_ylim(bottom - 0.05 * (top - bottom), top)
            ylabel += " (clipped)"
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    _integer_epochs(ax)
    ax.grid(True, which="major", alpha=0.3)
    legend_outside(ax)
    return ax


def plot_metric(
    study: optuna.Study, metric: str, *, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """``metric`` per epoch of each family's best trial, one line per family."""
    _, what = _METRIC_TEXT.get(metric, (metric, metric))
    return plot_curves(
        best_curves(study, metric),
        metric=metric,
        ax=ax,
        title=title or f"{what} of each family's best trial",
    )


def plot_lr_curves(study: optuna.Study, ax: Axes | None = None) -> Axes:
    """The learning rate per epoch of each family's best trial, on one axis.

    The articles' "compare learning-rate curves" view; log scale when the rates span more
    than 20x. The rates are the ones recorded during training (``plateau`` included).
    """
    return plot_metric(study, "learning_rate", ax=ax)


def plot_val_loss(study: optuna.Study, ax: Axes | None = None) -> Axes:
    """Validation loss per epoch of each family's best trial (the articles' loss view)."""
    return plot_metric(study, "val_loss", ax=ax)


def plot_val_accuracy(study: optuna.Study, ax: Axes | None = None) -> Axes:
    """Validation accuracy per epoch of each family's best trial (the accuracy view)."""
    return plot_metric(study, "val_accuracy", ax=ax)


def _legend_proxy(ax: Axes, **kwargs: Any) -> None:
    ax.plot([], [], linestyle="none", **kwargs)


def plot_optimization_history(study: optuna.Study, ax: Axes | None = None) -> Axes:
    """Each finished trial's val_loss by trial number, coloured by family, and the best so far.

    Pruned trials appear as crosses at the best val_loss they reported before being stopped.
    """
    if ax is None:
        ax = new_axes()
    info = optimization_history_info(study)
    title = f"Optimisation history of study {study.study_name!r}"
    if not info.points:
        return _empty(ax, title, "no finished trial yet")
    labels = label_order([p.label for p in info.points])
    for label in labels:
        done = [p for p in info.points if p.label == label and p.complete]
        pruned = [p for p in info.points if p.label == label and not p.complete]
        family = (done or pruned)[0].family
        color = family_color(family)
        marker = MARKERS.get((done or pruned)[0].optimizer, "o")
        if done:
            ax.scatter(
                [p.number for p in done],
                [p.value for p in done],
                color=color,
                marker=marker,
                s=28,
                zorder=3,
                label=label,
            )
        if pruned:
            ax.scatter(
                [p.number for p in pruned],
                [p.value for p in pruned],
                color=color,
                marker="x",
                s=28,
                alpha=0.7,
                zorder=3,
                label=None if done else label,
            )
    if info.best_numbers:
        ax.step(
            info.best_numbers,
            info.best_values,
            where="post",
            color="black",
            linewidth=1.4,
            label="best so far",
            zorder=2,
        )
    if any(not p.complete for p in info.points):
        _legend_proxy(ax, marker="x", color="#555555", label="pruned (best val_loss reported)")
    values = [p.value for p in info.points]
    ylabel = "val_loss (best epoch)"
    if wants_log(values, 50.0):
        ax.set_yscale("log")
        ylabel += ", log scale"
    else:
        top = _robust_top(values)
        if top is not None:
            ax.set_ylim(min(values) - 0.05 * (top - min(values)), top)
            ylabel += ", clipped"
    ax.set_xlabel("trial number")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    _integer_epochs(ax)
    ax.grid(True, alpha=0.3)
    legend_outside(ax)
    return ax


def plot_param_importances(study: optuna.Study, ax: Axes | None = None) -> Axes:
    """Optuna's parameter importances for val_loss as horizontal bars, largest on top.

    With too few finished trials the axes say why instead (see
    :func:`lrsearch.report.importance_info`); it never raises for a small study.
    """
    if ax is None:
        ax = new_axes()
    info = importance_info(study)
    title = f"Parameter importances for val_loss ({info.n_trials} finished trials)"
    if not info.importances:
        return _empty(ax, title, f"No importances: {info.reason}.")
    names = [k for k, _ in info.importances][::-1]
    values = [v for _, v in info.importances][::-1]
    bars = ax.barh(names, values, color="#1f77b4", alpha=0.85)
    for bar, value in zip(bars, values, strict=True):
        ax.text(
            bar.get_width() + 0.01 * max(values),
            bar.get_y() + bar.get_height() / 2,
            f"{value:.2f}",
            va="center",
            fontsize="small",
        )
    ax.set_xlim(0, max(values) * 1.15 or 1.0)
    ax.set_xlabel("importance (normalised, sums to 1)")
    ax.set_title(title, fontsize="medium")
    ax.grid(True, axis="x", alpha=0.3)
    return ax


def plot_family_values(study: optuna.Study, ax: Axes | None = None) -> Axes:
    """Every finished trial's val_loss per family: how each family's draws spread.

    Dots are complete trials, crosses pruned ones (their best reported val_loss); the ring
    marks each family's best.
    """
    if ax is None:
        ax = new_axes()
    info = optimization_history_info(study)
    title = "val_loss of every finished trial, by family"
    if not info.points:
        return _empty(ax, title, "no finished trial yet")
    labels = label_order([p.label for p in info.points])
    bests = {b.label: b.value for b in family_bests(study)}
    for i, label in enumerate(labels):
        group = [p for p in info.points if p.label == label]
        color = family_color(group[0].family)
        n = len(group)
        offsets = [0.0] if n == 1 else [-0.25 + 0.5 * j / (n - 1) for j in range(n)]
        best_x: float | None = None
        # one scatter per marker (a scatter per trial cost 5 s of a 2,000-trial report)
        styles: dict[tuple[str, bool], tuple[list[float], list[float]]] = {}
        for p, dx in zip(group, offsets, strict=True):
            marker = MARKERS.get(p.optimizer, "o") if p.complete else "x"
            xs, ys = styles.setdefault((marker, p.complete), ([], []))
            xs.append(i + dx)
            ys.append(p.value)
            if p.complete and label in bests and p.value == bests[label] and best_x is None:
                best_x = i + dx
        for (marker, complete), (xs, ys) in styles.items():
            ax.scatter(
                xs,
                ys,
                color=color,
                marker=marker,
                s=26,
                alpha=0.85 if complete else 0.6,
                zorder=3,
            )
        if best_x is not None:
            ax.scatter(
                best_x, bests[label], s=130, facecolors="none", edgecolors="black", zorder=4
            )
    _legend_proxy(ax, marker="o", color="#555555", label="complete trial")
    if any(not p.complete for p in info.points):
        _legend_proxy(ax, marker="x", color="#555555", label="pruned (best reported)")
    _legend_proxy(
        ax,
        marker="o",
        markerfacecolor="none",
        markeredgecolor="black",
        markersize=10,
        label="best of the family",
    )
    values = [p.value for p in info.points]
    ylabel = "val_loss (best epoch)"
    if wants_log(values, 50.0):
        ax.set_yscale("log")
        ylabel += ", log scale"
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(
        labels, rotation=30 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center"
    )
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)
    legend_outside(ax)
    return ax
