"""Reading a finished (or running) study: the best spec, a summary, the trials table."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import UsageError
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
    """The :class:`ScheduleSpec` a trial trained with (from its ``spec`` user attribute)."""
    data = trial.user_attrs.get("spec")
    if data is None:
        raise UsageError(
            f"Trial {trial.number} has no 'spec' user attribute: it was not recorded by lrsearch."
        )
    return ScheduleSpec.from_dict(data)


def load_best(storage: str, study_name: str) -> ScheduleSpec:
    """The winner of a study, ready for your own ``model.fit``::

        spec = lrsearch.load_best("sqlite:///studies/lrsearch.db", "lrsearch")
        model.compile(optimizer=spec.build_optimizer(), loss=..., metrics=["accuracy"])
        model.fit(x, y, epochs=20, validation_data=(xv, yv), callbacks=spec.callbacks())

    Raises:
        UsageError (a ``ValueError``): no such database or study, or no finished trial.
    """
    return spec_of(best_trial(load_study(storage, study_name)))


def best_summary(study: optuna.Study) -> dict[str, Any]:
    """JSON-ready: ``family``, ``params``, ``value``, ``trial``, ``optimizer``, ``momentum``..."""
    trial = best_trial(study)
    spec = spec_of(trial)
    return {
        "family": spec.family,
        "params": dict(spec.params),
        "value": trial.value,
        "trial": trial.number,
        "optimizer": spec.optimizer,
        "momentum": spec.momentum,
        "epochs": trial.user_attrs.get("epochs"),
        "study_name": study.study_name,
        "spec": spec.to_dict(),
    }


def snippet(summary: dict[str, Any]) -> str:
    """Python to paste into your own training code."""
    spec = json.dumps(summary["spec"])
    epochs = summary.get("epochs") or 20
    return (
        "from lrsearch import ScheduleSpec\n\n"
        f"spec = ScheduleSpec.from_dict({spec})\n"
        'model.compile(optimizer=spec.build_optimizer(), loss=..., metrics=["accuracy"])\n'
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
        ("val_loss", fmt(summary["value"])),
        ("family", summary["family"]),
        ("optimizer", summary["optimizer"]),
    ]
    if summary["optimizer"] in ("sgd", "nesterov"):
        rows.append(("momentum", fmt(summary["momentum"])))
    rows += [(k, fmt(v)) for k, v in summary["params"].items()]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    return "\n".join(lines) + "\n\nPaste into your own training code:\n\n" + snippet(summary)


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """Optuna's trials DataFrame (params, user attributes, states, durations)."""
    return study.trials_dataframe(multi_index=False)


def trials_records(study: optuna.Study) -> list[dict[str, Any]]:
    """The trials table as JSON-ready records (timestamps as ISO strings, NaN as null)."""
    df = trials_table(study)
    records = json.loads(df.to_json(orient="records", date_format="iso", default_handler=str))
    return [_jsonable(r) for r in records]
