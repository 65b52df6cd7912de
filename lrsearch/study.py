"""Reading a finished (or running) study: the best spec, a summary, the trials table."""

from __future__ import annotations

import dataclasses
import json
import math
import textwrap
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.optimizers import uses_momentum
from lrsearch.space import ScheduleSpec
from lrsearch.storage import load_study

if TYPE_CHECKING:
    import optuna
    import pandas as pd


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial:
    """The best COMPLETE trial, or :class:`UsageError` when none has finished."""
    try:
        return study.best_trial
    except ValueError:
        raise UsageError(
            f"Study {study.study_name!r} has no finished trial yet. Run `lrsearch tune` on it "
            "(or wait for the running trials to finish)."
        ) from None


def spec_of(trial: optuna.trial.FrozenTrial) -> ScheduleSpec:
    """The :class:`ScheduleSpec` a trial trained with (from its ``spec`` user attribute).

    Its ``epochs`` is the budget the trial ran: the spec's own, else the trial's ``epochs``
    user attribute (specs recorded before specs carried it).
    """
    data = trial.user_attrs.get("spec")
    if data is None:
        raise UsageError(
            f"Trial {trial.number} has no 'spec' user attribute: it was not recorded by lrsearch."
        )
    spec = ScheduleSpec.from_dict(data)
    ran = trial.user_attrs.get("epochs")
    if spec.epochs is None and isinstance(ran, int) and not isinstance(ran, bool) and ran >= 1:
        spec = dataclasses.replace(spec, epochs=ran)
    return spec


def load_best(storage: str, study_name: str) -> ScheduleSpec:
    """The winner of a study, ready for your own ``model.fit``::

        spec = lrsearch.load_best("sqlite:///studies/lrsearch.db", "lrsearch")
        model.compile(optimizer=spec.build_optimizer(), loss=..., metrics=["accuracy"])
        model.fit(x, y, epochs=20, validation_data=(xv, yv), callbacks=spec.callbacks())

    ``spec.epochs`` is the budget the trial ran, so ``spec.for_epochs(100)`` carries the winner
    of a short study to a long training.

    Raises:
        UsageError (a ``ValueError``): no such database or study, or no finished trial.
    """
    return spec_of(best_trial(load_study(storage, study_name)))


DATA_ATTR = "lrsearch_data"
"""Study user attribute: the task and what was done to the data (target mean and std)."""


def data_info(data: Any) -> dict[str, Any]:
    """What :data:`DATA_ATTR` stores for a :class:`~lrsearch.data.Dataset`."""
    return {
        "task": data.task,
        "n_classes": data.n_classes,
        "target_mean": data.target_mean,
        "target_std": data.target_std,
        "input_shape": list(data.input_shape),
    }


def data_advice(info: dict[str, Any]) -> str:
    """What to do to the data before pasting the winner (one paragraph)."""
    from lrsearch.tasks import DATA_TREATMENT

    task = info.get("task") or "classification"
    text = f"lrsearch trained this study as {task}: {DATA_TREATMENT[task]}."
    mean, std = info.get("target_mean"), info.get("target_std")
    if task == "regression" and isinstance(mean, (int, float)) and isinstance(std, (int, float)):
        text += (
            f" Do the same before training with this schedule: y_scaled = (y - {mean:.6g}) / "
            f"{std:.6g}, and map predictions back with y = y_scaled * {std:.6g} + {mean:.6g}; "
            "the learning rates found assume a target of that scale."
        )
    return text


def objective_name(study: optuna.Study) -> str:
    """What the study's values are: ``val_loss`` for ``tune`` studies, else its recorded name
    (a KerasTuner search's objective, or Optuna's metric name)."""
    name = study.user_attrs.get("keras_tuner_objective")
    if isinstance(name, str) and name:
        return name
    names = study.metric_names
    return str(names[0]) if names else "val_loss"


def best_summary(study: optuna.Study, epochs: int | None = None) -> dict[str, Any]:
    """JSON-ready: ``family``, ``params``, ``value``, ``trial``, ``optimizer``, ``momentum``,
    ``granularity``, ``epochs``, ``task``, ``data`` (what to do to the data first) and
    ``spec``.

    ``epochs``: carry the winner to that budget (:meth:`ScheduleSpec.for_epochs`): ``params``,
    ``spec`` and ``epochs`` are then the carried ones, and ``tuned_epochs`` the budget the
    trial ran.

    Raises:
        UsageError: no finished trial; ``epochs`` < 1, or the winner's budget is unknown.
    """
    trial = best_trial(study)
    spec = spec_of(trial)
    tuned = spec.epochs
    if epochs is not None:
        try:
            spec = spec.for_epochs(epochs)
        except ValueError as exc:
            raise UsageError(f"--epochs {epochs}: {exc}") from None
    info = dict(study.user_attrs.get(DATA_ATTR) or {})
    config = study.user_attrs.get("lrsearch_config")
    # lrsearch prepared the data of `tune` studies only (not of a KerasTuner search's)
    prepared_here = bool(info) or isinstance(config, dict)
    if "task" not in info:
        info["task"] = (config or {}).get("task") or "classification"
    history = trial.user_attrs.get("history") or {}
    metric = "mae" if "val_mae" in history else "accuracy"
    values = [v for v in history.get(f"val_{metric}", []) if isinstance(v, (int, float))]
    best_metric = (min(values) if metric == "mae" else max(values)) if values else None
    return {
        "family": spec.family,
        "params": dict(spec.params),
        "value": trial.value,
        "trial": trial.number,
        "optimizer": spec.optimizer,
        "momentum": spec.momentum,
        "granularity": spec.granularity,
        "epochs": spec.epochs if spec.epochs is not None else trial.user_attrs.get("epochs"),
        "tuned_epochs": tuned,
        "batch_size": (config or {}).get("batch_size"),
        "study_name": study.study_name,
        "task": info["task"],
        f"best_val_{metric}": best_metric,
        "objective": objective_name(study),
        "data": data_advice(info) if prepared_here else None,
        "spec": spec.to_dict(),
    }


def snippet(summary: dict[str, Any]) -> str:
    """Python to paste into your own training code."""
    spec = json.dumps(summary["spec"])
    epochs = summary.get("epochs") or 20
    if summary.get("task") == "regression":
        compile_args = 'loss="mean_squared_error", metrics=["mae"]'
    else:
        compile_args = 'loss=..., metrics=["accuracy"]'
    per_step = (summary.get("spec") or {}).get("granularity") == "step"
    if per_step:  # the rate changes every step inside the graph: it needs the steps per epoch
        batch_size = summary.get("batch_size") or 64
        return (
            "import math\n\nfrom lrsearch import ScheduleSpec\n\n"
            f"spec = ScheduleSpec.from_dict({spec})\n"
            f"batch_size = {batch_size}\n"
            "steps_per_epoch = math.ceil(len(x) / batch_size)\n"
            "model.compile(optimizer=spec.build_optimizer(steps_per_epoch=steps_per_epoch), "
            f"{compile_args})\n"
            f"model.fit(x, y, epochs={epochs}, batch_size=batch_size, "
            "validation_data=(x_val, y_val), callbacks=spec.callbacks())"
        )
    return (
        "from lrsearch import ScheduleSpec\n\n"
        f"spec = ScheduleSpec.from_dict({spec})\n"
        f"model.compile(optimizer=spec.build_optimizer(), {compile_args})\n"
        f"model.fit(x, y, epochs={epochs}, validation_data=(x_val, y_val), "
        "callbacks=spec.callbacks())"
    )


def format_table(summary: dict[str, Any]) -> str:
    """A short human-readable report of the best trial, with the snippet."""

    def fmt(v: Any) -> str:
        return f"{v:.6g}" if isinstance(v, float) else str(v)

    rows = [
        ("study", summary["study_name"]),
        ("best trial", f"#{summary['trial']}"),
        (summary.get("objective") or "val_loss", fmt(summary["value"])),
    ]
    for key in ("best_val_accuracy", "best_val_mae"):
        if summary.get(key) is not None and key.removeprefix("best_") != rows[-1][0]:
            rows.append((key.removeprefix("best_"), fmt(summary[key])))
    rows += [
        ("task", summary.get("task", "classification")),
        ("family", summary["family"]),
        ("optimizer", summary["optimizer"]),
        ("granularity", summary.get("granularity", "epoch")),
    ]
    tuned, epochs = summary.get("tuned_epochs"), summary.get("epochs")
    if tuned is not None and epochs is not None and tuned != epochs:
        scaled = f"{epochs} (tuned for {tuned}; durations scaled by {epochs}/{tuned})"
        rows.append(("epochs", scaled))
    elif epochs is not None:
        rows.append(("epochs", str(epochs)))
    if uses_momentum(summary["optimizer"]):
        rows.append(("momentum", fmt(summary["momentum"])))
    rows += [(k, fmt(v)) for k, v in summary["params"].items()]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    advice = textwrap.fill(summary.get("data") or "", width=96)
    head = "\n".join(lines) + (f"\n\n{advice}" if advice else "")
    return head + "\n\nPaste into your own training code:\n\n" + snippet(summary)


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


#: the prefix of Optuna's artifact records among a trial's system attributes
_ARTIFACT_PREFIX = "artifacts:"


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """Optuna's trials DataFrame: number, value, times, ``params_*``, ``user_attrs_*``,
    ``system_attrs_*`` and state, one row per trial.

    Unlike ``study.trials_dataframe()``, Optuna's artifact records (a system attribute
    ``artifacts:<id>`` per artifact, so a column per trial: 2,000 columns and 8.5 MB of CSV
    for 2,000 trials) are one column, ``system_attrs_artifacts``: the file names of the trial's
    artifacts.
    """
    import pandas as pd

    attrs = ("number", "value", "datetime_start", "datetime_complete", "duration", "params")
    df = study.trials_dataframe(attrs=(*attrs, "user_attrs", "state"), multi_index=False)
    system: dict[str, dict[int, Any]] = {}
    for trial in study.get_trials(deepcopy=False):
        files = []
        for key, value in trial.system_attrs.items():
            if key.startswith(_ARTIFACT_PREFIX):
                files.append(_artifact_file(value))
            else:
                system.setdefault(key, {})[trial.number] = value
        if files:
            system.setdefault("artifacts", {})[trial.number] = files
    if not system or df.empty:
        return df
    columns = {
        f"system_attrs_{key}": df["number"].map(lambda n, by=by: by.get(n))
        for key, by in sorted(system.items())
    }
    state = df.pop("state")
    return pd.concat([df, pd.DataFrame(columns, index=df.index), state], axis=1)


def _artifact_file(record: Any) -> str:
    """The file name in one of Optuna's artifact records (a JSON text), else the record."""
    try:
        return str(json.loads(record)["filename"])
    except (TypeError, ValueError, KeyError):
        return str(record)


def trials_csv(study: optuna.Study) -> str:
    """The trials table as CSV; nested cells (``history``, ``spec``, lists) as JSON text.

    Every cell holding a dict or a list is written with :func:`json.dumps` (NaN and infinity
    as ``null``), so ``json.loads`` reads it back; other cells are as pandas writes them.
    """
    from lrsearch.storage_read import collector_paused

    with collector_paused():  # a bulk build: a row and cells per trial
        df = trials_table(study).copy()
        nested = (dict, list, tuple)
        for column in df.columns:
            if df[column].dtype != object:
                continue
            cells = df[column].tolist()
            if any(isinstance(v, nested) for v in cells):
                df[column] = [_json_text(v) if isinstance(v, nested) else v for v in cells]
        return str(df.to_csv(index=False))


def _json_text(x: Any) -> str:
    """``x`` as JSON text, NaN and infinity as ``null`` (walked only when there are some)."""
    try:
        return json.dumps(x, allow_nan=False)
    except (ValueError, TypeError):
        return json.dumps(_jsonable(x))


def trials_records(study: optuna.Study) -> list[dict[str, Any]]:
    """The trials table as JSON-ready records (timestamps as ISO strings, NaN as null)."""
    from lrsearch.storage_read import collector_paused

    with collector_paused():  # a bulk build: a record per trial
        df = trials_table(study)
        records = json.loads(df.to_json(orient="records", date_format="iso", default_handler=str))
        return [_jsonable(r) for r in records]
