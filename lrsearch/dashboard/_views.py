"""Writing lrsearch's views into a study for optuna-dashboard (cheap, never fatal).

* After each trial of a study without pictures (:class:`lrsearch.dashboard.TrialViews`),
  :func:`write_trial_note` saves a trial note (what optuna-dashboard's ``save_note`` saves)
  with the schedule, a one-line sketch of the learning-rate curve and a Markdown table of
  epoch, learning rate, loss, val_loss and val_accuracy (val_mae for regression). It is an
  ``on_trial_end`` hook of :class:`lrsearch.objective.Objective`.
* At the end of each tune run, :func:`refresh_study_views` saves the study note (the
  per-family summary, kept below any text of your own) and two graphs
  (``save_plotly_graph_object``): the learning-rate curves and the validation loss of each
  family's best trial.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    import optuna

    from lrsearch.space import ScheduleSpec

#: graph ids of :func:`refresh_study_views` (stable: each refresh replaces the last)
LR_GRAPH_ID = "lrsearch-learning-rate-curves"
LOSS_GRAPH_ID = "lrsearch-val-loss"
#: the study note's own section starts at this heading; text above it is the user's
SUMMARY_HEADING = "## lrsearch summary"
_SPARK = "▁▂▃▄▅▆▇█"
_warned = False


# --------------------------------------------------------------------------- notes


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def _fmt(x: Any, digits: int = 4) -> str:
    v = _num(x)
    return "-" if v is None else f"{v:.{digits}g}"


def sparkline(values: Sequence[float | None]) -> str:
    """``▇▇▆▄▂▁``: the shape of a positive series on a log scale (blank where missing)."""
    logs = [math.log(v) if v is not None and v > 0 else None for v in values]
    finite = [v for v in logs if v is not None]
    if not finite:
        return ""
    low, high = min(finite), max(finite)
    span = high - low
    out = []
    for v in logs:
        if v is None:
            out.append(" ")
        elif span <= 1e-12:
            out.append(_SPARK[len(_SPARK) // 2])
        else:
            out.append(_SPARK[round((v - low) / span * (len(_SPARK) - 1))])
    return "".join(out)


def trial_note(spec: Mapping[str, Any], history: Mapping[str, Sequence[float | None]]) -> str:
    """The Markdown of a trial's note: schedule, learning-rate sketch, per-epoch table.

    ``spec`` is :meth:`ScheduleSpec.to_dict`; ``history`` the trial's ``history`` attribute.
    The learning rates are written with 6 significant digits.
    """
    family = spec.get("family", "?")
    optimizer = spec.get("optimizer", "sgd")
    raw = dict(spec.get("params") or {})
    params = {"initial_lr": raw.pop("initial_lr")} if "initial_lr" in raw else {}
    params.update(raw)
    head = f"`{family}` schedule, optimizer `{optimizer}`"
    if optimizer in ("sgd", "nesterov"):
        head += f" (momentum {_fmt(spec.get('momentum', 0.0), 3)})"
    if spec.get("granularity") == "step":
        head += ", rate changed every step (each epoch: its last step's rate)"
    shown = ", ".join(f"{k}={_fmt(v) if _num(v) is not None else v}" for k, v in params.items())
    lrs = [_num(v) for v in history.get("learning_rate", [])]
    lines = ["### Learning rate per epoch", "", head + (f": {shown}" if shown else "")]
    finite = [v for v in lrs if v is not None]
    if finite:
        lines += [
            "",
            f"Learning-rate curve (log scale): `{sparkline(lrs)}` from {finite[0]:.4g} to "
            f"{finite[-1]:.4g} (min {min(finite):.4g}, max {max(finite):.4g}).",
        ]
    columns = [
        k for k in ("learning_rate", "loss", "val_loss", "val_accuracy", "val_mae") if k in history
    ]
    n = max((len(history[k]) for k in columns), default=0)
    if n:
        lines += [
            "",
            "| epoch | " + " | ".join(columns) + " |",
            "| ---: | " + " | ".join("---:" for _ in columns) + " |",
        ]
        for i in range(n):
            cells = []
            for k in columns:
                series = history[k]
                v = series[i] if i < len(series) else None
                cells.append(_fmt(v, 6 if k == "learning_rate" else 4))
            lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    else:
        lines += ["", "No epoch finished."]
    return "\n".join(lines) + "\n"


def _warn_once(what: str, exc: BaseException) -> None:
    global _warned
    if not _warned:
        _warned = True
        print(
            f"lrsearch: warning: could not write the dashboard {what} ({type(exc).__name__}: "
            f"{exc}); tuning goes on.",
            file=sys.stderr,
        )


def write_trial_note(
    trial: optuna.trial.Trial,
    spec: ScheduleSpec | Mapping[str, Any],
    history: Mapping[str, Sequence[float | None]],
) -> None:
    """Save :func:`trial_note` as the trial's dashboard note. Never raises (warns once).

    ``spec`` is a :class:`lrsearch.ScheduleSpec` or its :meth:`~lrsearch.ScheduleSpec.to_dict`,
    so this is an ``on_trial_end`` hook of :class:`lrsearch.objective.Objective` as it is.
    """
    try:
        data = spec if isinstance(spec, Mapping) else spec.to_dict()
        _save_first_note(trial, trial_note(data, history))
    except Exception as exc:  # the note is a nicety: never fail a trial over it
        _warn_once("trial note", exc)


def _save_first_note(trial: optuna.trial.Trial, body: str) -> None:
    """optuna-dashboard's ``save_note(trial, body)`` for a trial that has no note yet.

    ``save_note`` reads every study system attribute twice to find the note's next version and
    clear older chunks: all the notes of the study, so a study of ``n`` trials paid O(n) per
    trial (0.28 s a trial at 2,000). A trial's lrsearch note is written once, as version 1, in
    optuna-dashboard's own keys (``note_ver_key``, ``split_body``); where those helpers are not
    found (another optuna-dashboard), ``save_note`` itself.
    """
    try:
        from optuna_dashboard._note import note_ver_key
        from optuna_dashboard._note import split_body
    except ImportError:
        from optuna_dashboard import save_note

        save_note(trial, body)
        return
    storage, study_id = trial.storage, trial.study._study_id
    for key, chunk in split_body(body, trial._trial_id).items():
        storage.set_study_system_attr(study_id, key, chunk)
    storage.set_study_system_attr(study_id, note_ver_key(trial._trial_id), 1)  # last: complete


# --------------------------------------------------------------------------- study views


class _PlotlyJSON:
    """A plotly figure as plain JSON (``save_plotly_graph_object`` only calls ``to_json``)."""

    def __init__(self, figure: dict[str, Any]) -> None:
        self.figure = figure

    def to_json(self) -> str:
        return json.dumps(self.figure, allow_nan=False)


def curves_figure(study: optuna.Study, metric: str) -> dict[str, Any] | None:
    """A plotly figure (as a dict) of ``metric`` per epoch of each family's best trial."""
    from lrsearch.report import best_curves
    from lrsearch.report import family_color
    from lrsearch.report import wants_log

    curves = best_curves(study, metric)
    if not curves:
        return None
    dash = {"sgd": "solid", "nesterov": "dashdot", "adam": "dash", "rmsprop": "dot"}
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": c.label,
            "x": c.epochs,
            "y": [v if math.isfinite(v) else None for v in c.mean],
            "line": {"color": family_color(c.family), "dash": dash.get(c.optimizer, "solid")},
        }
        for c in curves
    ]
    values = [v for c in curves for v in c.mean]
    title = {
        "learning_rate": "Learning-rate curves of each family's best trial",
        "val_loss": "Validation loss of each family's best trial",
    }.get(metric, metric)
    ytitle = {"learning_rate": "learning rate", "val_loss": "val_loss"}.get(metric, metric)
    yaxis: dict[str, Any] = {"title": {"text": ytitle}}
    xaxis: dict[str, Any] = {"title": {"text": "epoch"}}
    if len(curves[0].epochs) <= 20:
        xaxis["dtick"] = 1
    # rates spanning decades, losses spanning more than 5x (good families flat at the bottom
    # of a linear axis otherwise): a log axis
    if wants_log(values, 20.0 if metric == "learning_rate" else 5.0):
        yaxis["type"] = "log"
        yaxis["title"]["text"] += " (log scale)"
    return {
        "data": data,
        "layout": {
            "title": {"text": title},
            "xaxis": xaxis,
            "yaxis": yaxis,
            "legend": {"orientation": "v"},
        },
    }


def study_note(study: optuna.Study, previous: str = "") -> str:
    """The study note: ``previous`` text above :data:`SUMMARY_HEADING` kept, then the summary."""
    from lrsearch.report import family_summaries
    from lrsearch.report import summary_markdown

    own = previous.split(SUMMARY_HEADING, 1)[0].rstrip()
    rows = family_summaries(study)
    lines = [own, ""] if own else []
    lines += [SUMMARY_HEADING, ""]
    try:
        best = study.best_trial
    except ValueError:
        lines += ["No trial has finished yet.", ""]
    else:
        lines += [
            f"Best: trial #{best.number} ({best.user_attrs.get('family', '?')}), val_loss "
            f"{best.value:.4g}. Each trial's learning-rate curve is in its picture (or, "
            "without pictures, its note).",
            "",
        ]
    lines += [summary_markdown(rows).rstrip(), ""]
    lines += [
        "*Written by `lrsearch tune` after each run; text above the “lrsearch summary” "
        "heading is yours and is kept.*"
    ]
    return "\n".join(lines) + "\n"


def refresh_study_views(study: optuna.Study) -> None:
    """Save the study note and the two graphs of the study. Never raises (warns once)."""
    try:
        from optuna_dashboard import get_note
        from optuna_dashboard import save_note
        from optuna_dashboard import save_plotly_graph_object

        save_note(study, study_note(study, get_note(study)))
        for metric, graph_id in (("learning_rate", LR_GRAPH_ID), ("val_loss", LOSS_GRAPH_ID)):
            figure = curves_figure(study, metric)
            if figure is not None:
                graph: Any = _PlotlyJSON(figure)
                save_plotly_graph_object(study, graph, graph_object_id=graph_id)
    except Exception as exc:
        _warn_once("study summary", exc)
