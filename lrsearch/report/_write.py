"""``write_report``: every plot of a study as a PNG file, plus the summary table."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.report._info import best_curves
from lrsearch.report._info import family_summaries
from lrsearch.report._info import importance_info
from lrsearch.report._info import label_function
from lrsearch.report._info import lrsearch_trials
from lrsearch.report._info import optimization_history_info
from lrsearch.report._output import prepare_out_dir
from lrsearch.report._output import save_axes_png
from lrsearch.report._tables import summary_csv
from lrsearch.report._tables import summary_markdown
from lrsearch.tasks import METRIC_LABEL
from lrsearch.tasks import history_metric

if TYPE_CHECKING:
    import optuna
    from matplotlib.axes import Axes


@dataclasses.dataclass(frozen=True)
class ReportStep:
    """One file of the report: written (``path``) or skipped (``note`` says why)."""

    index: int
    total: int
    name: str
    what: str
    path: Path | None
    note: str | None
    seconds: float


@dataclasses.dataclass
class ReportResult:
    """What :func:`write_report` did: the files written and the plots skipped (with why)."""

    out: Path
    files: list[Path]
    skipped: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "files": [str(p) for p in self.files],
            "skipped": dict(self.skipped),
        }


def _budgets(trials: list[optuna.trial.FrozenTrial]) -> str:
    """What the trials ran: ``epochs 20``, or ``epochs 10 (5 trials), 20 (30 trials)``."""
    counts: dict[Any, int] = {}
    for t in trials:
        budget = t.user_attrs.get("epochs")
        counts[budget] = counts.get(budget, 0) + 1
    known = sorted((b, n) for b, n in counts.items() if isinstance(b, int))
    if not known:
        return "epochs not recorded"
    if len(known) == 1:
        return f"epochs {known[0][0]}"
    return "epochs " + ", ".join(f"{b} ({n} trials)" for b, n in known)


def report_metric(trials: list[optuna.trial.FrozenTrial]) -> str:
    """``accuracy``, or ``mae`` when the trials recorded a regression metric."""
    for t in trials:
        history = t.user_attrs.get("history")
        if isinstance(history, dict) and history:
            return history_metric(history)
    return "accuracy"


def _loss_words(trials: list[optuna.trial.FrozenTrial]) -> str:
    """``; the mean squared error of the standardised target`` for a regression study."""
    if report_metric(trials) == "mae":
        return "; the mean squared error of the standardised target"
    return ""


def _study_heading(study: optuna.Study, trials: list[optuna.trial.FrozenTrial]) -> list[str]:
    states: dict[str, int] = {}
    for t in trials:
        states[t.state.name.lower()] = states.get(t.state.name.lower(), 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
    lines = [
        f"# lrsearch report: study `{study.study_name}`",
        "",
        f"{len(trials)} trials ({counts}). Objective: the best validation loss of a trial "
        f"(`val_loss`, lower is better{_loss_words(trials)}).",
    ]
    config = study.user_attrs.get("lrsearch_config")
    if isinstance(config, dict) and config:
        setting = ", ".join(
            f"{k} {v}" for k, v in config.items() if v is not None and k != "epochs"
        )
        lines += ["", f"Setting: {setting}; {_budgets(trials)}."]
    try:
        best = study.best_trial
    except ValueError:
        lines += ["", "No trial has finished yet."]
    else:
        label = label_function(trials)(best)
        lines += [
            "",
            f"Best: trial #{best.number}, {label}, val_loss {best.value:.4g}. "
            "`lrsearch best` (with this study's --storage and --study-name) prints it as code "
            "to paste into your own training.",
        ]
    return lines


def write_report(
    study: optuna.Study,
    out: str | Path,
    *,
    on_step: Callable[[ReportStep], None] | None = None,
) -> ReportResult:
    """Write the report of ``study`` into the folder ``out`` (created if needed).

    Files: ``lr_curves.png`` (the learning rate per epoch of each family's best trial, one
    axis), ``val_loss.png`` and ``val_accuracy.png`` (``val_mae.png`` for regression: the
    same trials' validation curves), ``train_vs_val.png`` (the same trials' training vs
    validation loss and accuracy, or MAE: the articles' view of each run),
    ``optimization_history.png``, ``family_values.png`` (every trial's val_loss by family),
    ``param_importances.png`` (skipped, with a note, when the study has too few finished
    trials), ``summary.md`` and ``summary.csv`` (per family: best value, its parameters, trials
    run and share pruned). A plot with nothing to draw is skipped and noted in ``summary.md``.

    ``on_step`` is called after each file (the CLI prints a progress line).

    Raises:
        UsageError: the study has no lrsearch trial, or ``out`` cannot be created.
    """
    from lrsearch.report._plots import plot_family_values
    from lrsearch.report._plots import plot_metric
    from lrsearch.report._plots import plot_optimization_history
    from lrsearch.report._plots import plot_param_importances
    from lrsearch.report._trial import plot_train_vs_val

    trials = lrsearch_trials(study)
    if not trials:
        raise UsageError(
            f"Study {study.study_name!r} has no trials recorded by lrsearch yet. Run "
            "`lrsearch tune` on it first."
        )
    out_dir = prepare_out_dir(out)
    wide = (9.0, 5.0)
    metric = report_metric(trials)

    def curves_plot(metric: str) -> tuple[Callable[[Axes], Any], str | None]:
        curves = best_curves(study, metric)
        if not curves:
            return (lambda ax: None), f"no finished trial recorded {metric}"
        return (lambda ax: plot_metric(study, metric, ax=ax)), None

    def history_plot(kind: str) -> tuple[Callable[[Axes], Any], str | None]:
        if not optimization_history_info(study).points:
            return (lambda ax: None), "no trial has finished yet"
        if kind == "history":
            return (lambda ax: plot_optimization_history(study, ax=ax)), None
        return (lambda ax: plot_family_values(study, ax=ax)), None

    def train_vs_val_plot() -> tuple[Callable[[Axes], Any], str | None]:
        if not best_curves(study, "val_loss"):
            return (lambda ax: None), "no finished trial recorded val_loss"
        return (lambda ax: plot_train_vs_val(study, ax=ax)), None

    def importance_plot() -> tuple[Callable[[Axes], Any], str | None]:
        info = importance_info(study)
        if not info.importances:
            return (lambda ax: None), str(info.reason)
        return (lambda ax: plot_param_importances(study, ax=ax)), None

    plan: list[tuple[str, str, Callable[[], tuple[Callable[[Axes], Any], str | None]]]] = [
        (
            "lr_curves.png",
            "learning-rate curves of each family's best trial",
            lambda: curves_plot("learning_rate"),
        ),
        (
            "val_loss.png",
            "validation loss per epoch of each family's best trial",
            lambda: curves_plot("val_loss"),
        ),
        (
            f"val_{metric}.png",
            f"validation {METRIC_LABEL[metric]} per epoch of each family's best trial",
            lambda: curves_plot(f"val_{metric}"),
        ),
        (
            "train_vs_val.png",
            f"training vs validation loss and {METRIC_LABEL[metric]} of each family's best trial",
            lambda: train_vs_val_plot(),
        ),
        ("optimization_history.png", "optimisation history", lambda: history_plot("history")),
        (
            "family_values.png",
            "every trial's val_loss, by family",
            lambda: history_plot("families"),
        ),
        ("param_importances.png", "parameter importances", importance_plot),
    ]
    total = len(plan) + 2
    files: list[Path] = []
    skipped: dict[str, str] = {}
    written: list[tuple[str, str]] = []

    def step(
        index: int, name: str, what: str, path: Path | None, note: str | None, start: float
    ) -> None:
        if on_step is not None:
            on_step(ReportStep(index, total, name, what, path, note, time.monotonic() - start))

    for index, (name, what, make) in enumerate(plan, start=1):
        start = time.monotonic()
        draw, note = make()
        if note is not None:
            skipped[name] = note
            step(index, name, what, None, note, start)
            continue
        path = out_dir / name
        save_axes_png(draw, path, figsize=wide)
        files.append(path)
        written.append((name, what))
        step(index, name, what, path, None, start)

    start = time.monotonic()
    rows = family_summaries(study)
    csv_path = out_dir / "summary.csv"
    csv_path.write_text(summary_csv(rows), encoding="utf-8")
    files.append(csv_path)
    step(total - 1, "summary.csv", "summary table (CSV)", csv_path, None, start)

    start = time.monotonic()
    lines = _study_heading(study, trials)
    lines += ["", "## Families", "", summary_markdown(rows).rstrip("\n")]
    lines += [
        "",
        "*trials run* counts finished trials (complete, pruned or failed); *share pruned* is "
        "pruned over finished. The parameters are those of the family's best trial "
        "(`initial_lr` is the peak for warm-up and one-cycle families).",
    ]
    if written:
        lines += ["", "## Plots", ""]
        for name, what in written:
            lines += [f"### {what[0].upper()}{what[1:]}", "", f"![{what}]({name})", ""]
    if skipped:
        lines += ["", "## Skipped", ""]
        lines += [f"- `{name}`: {note}." for name, note in skipped.items()]
    md_path = out_dir / "summary.md"
    md_path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    files.append(md_path)
    step(total, "summary.md", "summary table (Markdown) with the plots", md_path, None, start)
    return ReportResult(out_dir, files, skipped)


def report(storage: str, study_name: str, out: str | Path, **kwargs: Any) -> ReportResult:
    """Load the study ``study_name`` from ``storage`` and :func:`write_report` it into ``out``."""
    from lrsearch.storage import load_study

    return write_report(load_study(storage, study_name), out, **kwargs)
