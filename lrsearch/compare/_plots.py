"""The plots and files of a comparison: mean +- std bands per family, JSON and Markdown."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lrsearch.compare._results import CompareResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: the files of the plots: name, the per-epoch series drawn, and the heading in compare.md
_PLOTS = (
    ("compare_lr_curves.png", "learning_rate", "Learning-rate curves"),
    ("compare_val_loss.png", "val_loss", "Validation loss"),
    ("compare_val_accuracy.png", "val_accuracy", "Validation accuracy"),
    ("compare_val_mae.png", "val_mae", "Validation mean absolute error"),
)


def plot_compare(result: CompareResult, metric: str, ax: Axes | None = None) -> Axes:
    """Mean +- std over the seeds of ``metric`` per epoch, one line and band per family."""
    from lrsearch.report import plot_curves

    what = {
        "learning_rate": "Learning rate",
        "val_loss": "Validation loss",
        "val_accuracy": "Validation accuracy",
        "val_mae": "Validation mean absolute error",
        "loss": "Training loss",
        "accuracy": "Training accuracy",
        "mae": "Training mean absolute error",
    }.get(metric, metric)
    n = len(result.seeds)
    title = f"{what} per epoch: mean ± std over {n} seed{'s' if n > 1 else ''}"
    return plot_curves(result.curves(metric), metric=metric, ax=ax, title=title)


def _draw(result: CompareResult, metric: str, ax: Axes) -> Axes:
    return plot_compare(result, metric, ax=ax)


def write_compare(
    result: CompareResult,
    out: str | Path,
    *,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write ``compare_lr_curves.png``, ``compare_val_loss.png``, ``compare_val_accuracy.png``
    (``compare_val_mae.png`` for regression; mean +- std bands per family), ``compare.json``
    (everything, with every run's history) and ``compare.md`` (the table) into ``out``;
    returns the paths written.
    """
    import json

    from lrsearch.report import prepare_out_dir
    from lrsearch.report import save_axes_png

    out_dir = prepare_out_dir(out)
    files: list[Path] = []

    def done(path: Path) -> None:
        files.append(path)
        if on_file is not None:
            on_file(path)

    for name, metric, _ in _PLOTS:
        if not result.curves(metric):
            continue
        path = out_dir / name
        save_axes_png(functools.partial(_draw, result, metric), path, figsize=(9.0, 5.0))
        done(path)
    path = out_dir / "compare.json"
    path.write_text(
        json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    done(path)
    path = out_dir / "compare.md"
    seeds = ", ".join(str(s) for s in result.seeds)
    text = (
        f"# Equal-budget comparison\n\n{len(result.families)} families, each trained on seeds "
        f"{seeds} for {result.budget_text()} epochs ({result.dataset}, {result.model}, "
        f"{result.task}, batch size {result.batch_size}). Best value of each run, then mean ± "
        "sample std over the seeds.\n\n" + result.format_markdown()
    )
    for name, _, what in _PLOTS:
        if (out_dir / name).exists() and out_dir / name in files:
            text += f"\n## {what}\n\n![{what}]({name})\n"
    path.write_text(text, encoding="utf-8")
    done(path)
    return files
