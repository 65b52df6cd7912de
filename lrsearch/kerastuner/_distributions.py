"""KerasTuner hyperparameters as Optuna distributions, suggested only when active.

=====================================  ==========================================================
KerasTuner                             Optuna
=====================================  ==========================================================
``Int(lo, hi, step=s)``                ``IntDistribution(lo, hi', step=s)`` (hi' = last value on
                                       the grid, as KerasTuner samples it)
``Int(lo, hi, sampling="log")``        ``IntDistribution(lo, hi, log=True)``
``Float(lo, hi)``                      ``FloatDistribution(lo, hi)``
``Float(lo, hi, step=s)``              ``FloatDistribution(lo, hi', step=s)``
``Float(lo, hi, sampling="log")``      ``FloatDistribution(lo, hi, log=True)``
log with a step (KerasTuner: a factor  ``CategoricalDistribution`` of KerasTuner's own values
``lo, lo*s, lo*s**2, ...``)            (Optuna has no multiplicative grid)
``sampling="reverse_log"``             as ``linear`` (Optuna has no reverse-log density)
``Choice(values)``                     ``CategoricalDistribution(values)``
``Boolean()``                          ``CategoricalDistribution([False, True])``
``Fixed(value)``                       ``CategoricalDistribution([value])``
=====================================  ==========================================================

A conditional hyperparameter (``conditional_scope``, ``parent_name``/``parent_values``) is
suggested only when its conditions hold for the values drawn before it, so an inactive one is
absent from the Optuna trial's ``params`` (as it is from KerasTuner's ``values``).
"""

from __future__ import annotations

import math
from typing import Any

import keras_tuner
import optuna
from optuna.distributions import BaseDistribution
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.distributions import IntDistribution

_HP = keras_tuner.engine.hyperparameters  # Int, Float, Choice, Boolean, Fixed


def _grid_high(low: float, high: float, step: float) -> float:
    """The largest ``low + k * step <= high`` (KerasTuner's last value on the grid)."""
    return low + math.floor((high - low) / step + 1e-9) * step


def distribution_of(hp: Any) -> BaseDistribution:
    """The Optuna distribution of one KerasTuner hyperparameter (table above).

    Raises:
        ValueError: a hyperparameter kind KerasTuner does not define.
    """
    if isinstance(hp, _HP.Fixed):
        return CategoricalDistribution([hp.value])
    if isinstance(hp, _HP.Boolean):
        return CategoricalDistribution([False, True])
    if isinstance(hp, _HP.Choice):
        return CategoricalDistribution(list(hp.values))
    if isinstance(hp, (_HP.Int, _HP.Float)):
        is_int = isinstance(hp, _HP.Int)
        log = hp.sampling == "log"
        step = hp.step
        if step is not None and hp.sampling != "linear":  # a multiplicative grid
            cast = int if is_int else float
            return CategoricalDistribution(sorted({cast(v) for v in hp.values}))
        low, high = hp.min_value, hp.max_value
        if is_int:
            high = int(_grid_high(low, high, step)) if step else high
            return IntDistribution(int(low), int(high), log=log, step=1 if log else step or 1)
        if step is not None:
            return FloatDistribution(low, _grid_high(low, high, step), step=step)
        return FloatDistribution(low, high, log=log)
    raise ValueError(
        f"Unknown KerasTuner hyperparameter kind {type(hp).__name__} ({hp!r}). Known: Int, "
        "Float, Choice, Boolean, Fixed."
    )


def _suggest(trial: optuna.trial.Trial, name: str, dist: BaseDistribution) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    assert isinstance(dist, FloatDistribution)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


def suggest_values(
    space: keras_tuner.HyperParameters, trial: optuna.trial.Trial
) -> dict[str, Any]:
    """Values for the active hyperparameters of ``space``, drawn through ``trial``.

    Walks the space in order (parents come before their children), so each hyperparameter's
    conditions are checked against the values drawn so far; inactive ones are never
    suggested. A name registered twice under different conditions is drawn once, by the first
    of them that is active.
    """
    hps = keras_tuner.HyperParameters()
    drawn: dict[str, Any] = {}
    for hp in space.space:
        hps.merge([hp])  # registers it (with its default value when active)
        if hp.name in drawn or not hps.is_active(hp):
            continue
        drawn[hp.name] = hps.values[hp.name] = _suggest(trial, hp.name, distribution_of(hp))
    return drawn
