"""What the report draws, taken out of a study: plain data, no matplotlib.

Each ``*_info`` function reads a study (or a compare result) and returns NamedTuples; the
drawing functions of :mod:`lrsearch.report._plots` only turn them into lines on an ``Axes``
(the split of Optuna's own visualization module).

Grouping: trials are grouped by schedule family; when a study searched more than one optimizer,
by family *and* optimizer (``"constant (adam)"``), so the Neptune article's Adam run stays a
contender of its own.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

from lrsearch.optimizers import uses_momentum
from lrsearch.schedules import FAMILIES
from lrsearch.tasks import HISTORY_METRICS

if TYPE_CHECKING:
    import optuna

#: the per-epoch series a trial records (``history`` user attribute)
METRICS = ("learning_rate", "loss", "val_loss", *HISTORY_METRICS)

#: minimum finished trials for parameter importances (fANOVA needs some spread to fit)
MIN_TRIALS_FOR_IMPORTANCE = 3


class Curve(NamedTuple):
    """One line of a per-epoch plot: the mean over runs and, with several runs, its spread.

    ``epochs`` are 1-based; missing values (a pruned or diverged run) are ``nan``.
    """

    label: str
    family: str
    optimizer: str
    epochs: list[int]
    mean: list[float]
    std: list[float] | None = None
    runs: int = 1


class FamilyBest(NamedTuple):
    """The best finished trial of one family (or family and optimizer)."""

    label: str
    family: str
    optimizer: str
    trial: int
    value: float
    params: dict[str, Any]
    history: dict[str, list[float | None]]


class FamilySummary(NamedTuple):
    """One row of the summary table."""

    label: str
    family: str
    optimizer: str
    trials: int
    complete: int
    pruned: int
    failed: int
    running: int
    best_value: float | None
    best_trial: int | None
    best_params: dict[str, Any]

    @property
    def finished(self) -> int:
        """Trials that ended (complete, pruned or failed)."""
        return self.complete + self.pruned + self.failed

    @property
    def share_pruned(self) -> float | None:
        """Pruned trials over finished trials (``None`` when none finished)."""
        return self.pruned / self.finished if self.finished else None


class HistoryPoint(NamedTuple):
    """One trial of the optimisation history."""

    number: int
    label: str
    family: str
    value: float
    complete: bool
    optimizer: str = "sgd"


class OptimizationHistoryInfo(NamedTuple):
    """Finished trials in order, and the best value so far after each finished trial."""

    points: list[HistoryPoint]
    best_numbers: list[int]
    best_values: list[float]


class ImportanceInfo(NamedTuple):
    """Parameter importances (largest first), or the reason there are none."""

    importances: list[tuple[str, float]]
    n_trials: int
    reason: str | None = None


def _state(trial: optuna.trial.FrozenTrial) -> str:
    return str(trial.state.name)


def _optimizer_of(trial: optuna.trial.FrozenTrial) -> str:
    spec = trial.user_attrs.get("spec") or {}
    return str(spec.get("optimizer") or trial.params.get("optimizer") or "sgd")


def _family_of(trial: optuna.trial.FrozenTrial) -> str | None:
    family = trial.user_attrs.get("family") or trial.params.get("family")
    return None if family is None else str(family)


def lrsearch_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials recorded by lrsearch (those with a ``family``), in trial order."""
    return [t for t in study.get_trials(deepcopy=False) if _family_of(t) is not None]


def label_function(trials: Sequence[optuna.trial.FrozenTrial]) -> Any:
    """``trial -> label``: the family, plus the optimizer when several were searched."""
    several = len({_optimizer_of(t) for t in trials}) > 1

    def label(trial: optuna.trial.FrozenTrial) -> str:
        family = _family_of(trial) or "?"
        return f"{family} ({_optimizer_of(trial)})" if several else family

    return label


def label_order(labels: Sequence[str]) -> list[str]:
    """Labels in the registry's family order (unknown ones last, alphabetically)."""
    rank = {f: i for i, f in enumerate(FAMILIES)}

    def key(label: str) -> tuple[int, str]:
        return (rank.get(label.split(" ")[0], len(rank)), label)

    return sorted(set(labels), key=key)


def _best_params(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    spec = trial.user_attrs.get("spec") or {}
    raw = dict(spec.get("params") or {})
    params = {"initial_lr": raw.pop("initial_lr")} if "initial_lr" in raw else {}
    params.update(raw)
    optimizer = spec.get("optimizer", "sgd")
    if uses_momentum(optimizer) and "momentum" in spec:
        params["momentum"] = spec["momentum"]
    if not params:  # not recorded by lrsearch: fall back on Optuna's parameters
        params = {k: v for k, v in trial.params.items() if k != "family"}
    return params


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def family_bests(study: optuna.Study) -> list[FamilyBest]:
    """The best COMPLETE trial of each family (and optimizer), best value first."""
    trials = lrsearch_trials(study)
    label = label_function(trials)
    best: dict[str, optuna.trial.FrozenTrial] = {}
    for t in trials:
        if _state(t) != "COMPLETE" or not _is_number(t.value):
            continue
        key = label(t)
        if key not in best or float(t.value) < float(best[key].value):  # type: ignore[arg-type]
            best[key] = t
    rows = [
        FamilyBest(
            label=key,
            family=_family_of(t) or "?",
            optimizer=_optimizer_of(t),
            trial=t.number,
            value=float(t.value),  # type: ignore[arg-type]
            params=_best_params(t),
            history=dict(t.user_attrs.get("history") or {}),
        )
        for key, t in best.items()
    ]
    return sorted(rows, key=lambda r: r.value)


def family_summaries(study: optuna.Study) -> list[FamilySummary]:
    """One row per family (and optimizer): counts, best value and its parameters.

    Ordered by best value; families without a finished trial come last.
    """
    trials = lrsearch_trials(study)
    label = label_function(trials)
    bests = {b.label: b for b in family_bests(study)}
    groups: dict[str, list[optuna.trial.FrozenTrial]] = {}
    for t in trials:
        groups.setdefault(label(t), []).append(t)
    rows = []
    for key, group in groups.items():
        states = [_state(t) for t in group]
        b = bests.get(key)
        rows.append(
            FamilySummary(
                label=key,
                family=_family_of(group[0]) or "?",
                optimizer=_optimizer_of(group[0]),
                trials=len(group),
                complete=states.count("COMPLETE"),
                pruned=states.count("PRUNED"),
                failed=states.count("FAIL"),
                running=states.count("RUNNING") + states.count("WAITING"),
                best_value=None if b is None else b.value,
                best_trial=None if b is None else b.trial,
                best_params={} if b is None else b.params,
            )
        )
    order = {k: i for i, k in enumerate(label_order(list(groups)))}
    return sorted(
        rows,
        key=lambda r: (r.best_value is None, r.best_value or 0.0, order[r.label]),
    )


def _series(history: dict[str, Any], key: str) -> list[float]:
    values = history.get(key) or []
    return [float(v) if _is_number(v) else math.nan for v in values]


def best_curves(study: optuna.Study, metric: str) -> list[Curve]:
    """``metric`` per epoch of each family's best trial (families without it are left out).

    ``metric`` is one of :data:`METRICS`; the curves come in the registry's family order.
    """
    if metric not in METRICS:
        raise ValueError(
            f"Argument `metric` must be one of {', '.join(METRICS)}. Received: {metric!r}"
        )
    bests = {b.label: b for b in family_bests(study)}
    curves = []
    for key in label_order(list(bests)):
        b = bests[key]
        values = _series(b.history, metric)
        if not any(math.isfinite(v) for v in values):
            continue
        curves.append(
            Curve(
                label=f"{key} (#{b.trial})",
                family=b.family,
                optimizer=b.optimizer,
                epochs=list(range(1, len(values) + 1)),
                mean=values,
            )
        )
    return curves


def optimization_history_info(study: optuna.Study) -> OptimizationHistoryInfo:
    """Every finished trial's value (a pruned trial: its best reported ``val_loss``).

    The best-so-far line follows COMPLETE trials only, as the study's best value does.
    """
    trials = lrsearch_trials(study)
    label = label_function(trials)
    points: list[HistoryPoint] = []
    best_numbers: list[int] = []
    best_values: list[float] = []
    best = math.inf
    for t in sorted(trials, key=lambda t: t.number):
        state = _state(t)
        if state == "COMPLETE" and _is_number(t.value):
            value = float(t.value)  # type: ignore[arg-type]
            points.append(
                HistoryPoint(
                    t.number, label(t), _family_of(t) or "?", value, True, _optimizer_of(t)
                )
            )
            if value < best:
                best = value
        elif state == "PRUNED":
            reported = [v for v in t.intermediate_values.values() if _is_number(v)]
            if not reported:
                continue
            points.append(
                HistoryPoint(
                    t.number,
                    label(t),
                    _family_of(t) or "?",
                    min(reported),
                    False,
                    _optimizer_of(t),
                )
            )
        if math.isfinite(best) and state in ("COMPLETE", "PRUNED", "FAIL"):
            best_numbers.append(t.number)
            best_values.append(best)
    return OptimizationHistoryInfo(points, best_numbers, best_values)


def importance_info(study: optuna.Study) -> ImportanceInfo:
    """Optuna's parameter importances of the finished trials, or why there are none.

    Needs :data:`MIN_TRIALS_FOR_IMPORTANCE` COMPLETE trials with some spread in their values;
    otherwise (or when the evaluator cannot fit) ``importances`` is empty and ``reason`` says
    why. Never raises for a small study.
    """
    import optuna

    complete = [
        t
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if _is_number(t.value)
    ]
    n = len(complete)
    if n < MIN_TRIALS_FOR_IMPORTANCE:
        return ImportanceInfo(
            [],
            n,
            f"parameter importances need at least {MIN_TRIALS_FOR_IMPORTANCE} finished trials "
            f"(the study has {n})",
        )
    if len({float(t.value) for t in complete}) < 2:  # type: ignore[arg-type]
        return ImportanceInfo([], n, "all finished trials have the same value")
    # Only the parameters every finished trial has (family, initial_lr, ...): a family's own
    # parameters exist in its trials alone and would be judged on a handful of points.
    shared = set(complete[0].params)
    for t in complete[1:]:
        shared &= set(t.params)
    varied = sorted(p for p in shared if len({repr(t.params[p]) for t in complete}) > 1)
    if not varied:
        return ImportanceInfo(
            [], n, "the finished trials share no parameter with more than one value"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "some regimes have less than 2 trials"
            importances = optuna.importance.get_param_importances(study, params=varied)
    except (ValueError, RuntimeError, ZeroDivisionError) as exc:
        first = (str(exc).splitlines() or [""])[0]
        return ImportanceInfo([], n, f"Optuna could not compute importances ({first})")
    pairs = [(str(k), float(v)) for k, v in importances.items() if _is_number(v)]
    if not pairs:
        return ImportanceInfo(
            [], n, "the finished trials share no parameter with more than one value"
        )
    return ImportanceInfo(sorted(pairs, key=lambda kv: -kv[1]), n)


def format_params(params: dict[str, Any]) -> str:
    """``initial_lr=0.504, k=0.1, epochs_drop=10`` (floats to 3 significant digits)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}"
        return str(v)

    return ", ".join(f"{k}={fmt(v)}" for k, v in params.items())
