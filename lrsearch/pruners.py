"""Pruners of a schedule search: judge each trial at its schedule's phase, and a registry.

A pruner compares a trial's ``val_loss`` at epoch ``e`` with other trials' at ``e``. A trial
still warming up (its rate ramping from ``start_lr``) has trained fewer epochs' worth at full
rate than a trial at full rate from the first epoch, and a cyclical trial (or one that restarts)
may stand at a peak of its rate, where its loss is briefly worse than what it has already
reached. :class:`ScheduleAwarePruner` wraps any Optuna pruner (as Optuna's ``PatientPruner``
does) and hands it the trial *at its phase* (:func:`phase_view`): each epoch's value is the best
``val_loss`` reached so far, and the epochs a warm-up has not yet trained at full rate are taken
off its step (a linear ramp of ``W`` epochs lags ``(W + 1) / 2`` epochs behind), so a warm-up
trial is compared with the others where they had trained as much, and pruned if it is bad
there: warm-ups are judged, not exempted. It reads the warm-up from the trial itself
(:func:`warmup_epochs_of`), so it needs no Keras and serves any Optuna study::

    import optuna
    from lrsearch.pruners import ScheduleAwarePruner

    study = optuna.create_study(pruner=ScheduleAwarePruner(optuna.pruners.MedianPruner()))

    def objective(trial):
        trial.set_user_attr("warmup_epochs", 3)   # or the lrsearch ``spec`` attribute
        for epoch in range(epochs):
            ...
            trial.report(val_loss, epoch)         # steps are 0-based epochs
            if trial.should_prune():
                raise optuna.TrialPruned()

``lrsearch tune --pruner NAME`` builds its pruner with :func:`make_pruner` from
:data:`PRUNERS`; adding an entry there adds a choice.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any
from typing import Protocol

import optuna

from lrsearch.schedules import REGISTRY

#: user attribute a trial may set to declare its warm-up in epochs (read first)
WARMUP_ATTR = "warmup_epochs"
#: user attribute of lrsearch trials: :meth:`ScheduleSpec.to_dict`, warm-up from its family
SPEC_ATTR = "spec"

__all__ = [
    "PRUNERS",
    "SPEC_ATTR",
    "WARMUP_ATTR",
    "PrunerFactory",
    "ScheduleAwareHyperbandPruner",
    "ScheduleAwarePruner",
    "in_warmup",
    "make_pruner",
    "phase_lag",
    "phase_view",
    "warmup_epochs_of",
]


def _spec_warmup(spec: Mapping[str, Any]) -> float:
    name = spec.get("family")
    family = REGISTRY.get(name) if isinstance(name, str) else None
    if family is None:  # not an lrsearch spec: no warm-up known
        return 0.0
    params = spec.get("params")
    try:
        return float(family.warmup_epochs(dict(params) if isinstance(params, Mapping) else {}))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"The trial's `{SPEC_ATTR}` user attribute has no readable warm-up for family "
            f"{family.name!r} ({type(exc).__name__}: {exc}). Received: {SPEC_ATTR}={spec!r}"
        ) from None


def warmup_epochs_of(trial: optuna.trial.FrozenTrial) -> float:
    """Epochs ``trial`` spends warming up (0.0 when it declares none).

    Read from the trial's user attributes: ``warmup_epochs`` (:data:`WARMUP_ATTR`, a number)
    when set, else the warm-up of the family in ``spec`` (:data:`SPEC_ATTR`, as
    :meth:`lrsearch.ScheduleSpec.to_dict` writes it, which ``lrsearch tune`` trials set
    before training): ``lrsearch.schedules.REGISTRY[family].warmup_epochs(params)``.

    Raises:
        ValueError: ``warmup_epochs`` is not a finite number >= 0, or ``spec`` names a family
            whose warm-up cannot be read from its ``params``.
    """
    attrs = trial.user_attrs
    if WARMUP_ATTR in attrs:
        value = attrs[WARMUP_ATTR]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value < 0:
            raise ValueError(
                f"The trial's `{WARMUP_ATTR}` user attribute must be a finite number >= 0 "
                f"(epochs). Received: {WARMUP_ATTR}={value!r}"
            )
        return float(value)
    spec = attrs.get(SPEC_ATTR)
    return _spec_warmup(spec) if isinstance(spec, Mapping) else 0.0


def in_warmup(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether ``trial``'s last reported step (a 0-based epoch) is spared as warm-up.

    Epoch ``e`` is spared when ``e + 1 < ceil(W)``, ``W`` = :func:`warmup_epochs_of`: with
    ``W = 3`` the first two epochs are spared and the third may be pruned (its rate has reached
    the peak during it); ``W <= 1`` spares nothing. A trial that reported nothing is not.
    """
    step = trial.last_step
    if step is None:
        return False
    return step + 1 < math.ceil(warmup_epochs_of(trial))


def phase_lag(warmup: float, step: int) -> float:
    """Epochs' worth of full-rate training a warm-up of ``warmup`` epochs lacks after ``step``.

    The warm-up is taken as a linear ramp from 0 to the peak over ``W = warmup`` epochs (epoch
    ``t < W`` trains at ``t / W`` of the peak rate): the lag after 0-based epoch ``step`` is
    ``sum(1 - t / W for t in range(min(step + 1, ceil(W))))``, which reaches ``(W + 1) / 2``
    once the warm-up is over (``W = 3``: 1, 1.67, 2, 2, ...). No warm-up: 0.
    """
    if warmup <= 0 or step < 0:
        return 0.0
    return sum(1.0 - t / warmup for t in range(min(step + 1, math.ceil(warmup))))


def phase_view(trial: optuna.trial.FrozenTrial) -> optuna.trial.FrozenTrial:
    """``trial`` as :class:`ScheduleAwarePruner` shows it to the pruner it wraps.

    A copy whose intermediate values are re-keyed to the schedule's phase: the value of 0-based
    epoch ``e`` becomes the best (lowest) finite value reported up to ``e`` (a NaN stays NaN),
    stored at step ``e - floor(phase_lag(W, e))`` (``W`` = :func:`warmup_epochs_of`); epochs
    that land before step 0 are left out, and of two epochs landing on one step the later one
    is kept. A trial without a warm-up keeps its steps. The copy keeps the trial's id, number
    and system attributes, so pruners that record per-trial state (successive halving's rungs)
    record it on the real trial.
    """
    warmup = warmup_epochs_of(trial)
    best, values = math.inf, {}
    for step, value in sorted(trial.intermediate_values.items()):
        if math.isnan(value):
            shown = value
        else:
            best = min(best, value)
            shown = best
        phase = step - math.floor(phase_lag(warmup, step) + 1e-9)
        if phase >= 0:
            values[phase] = shown
    view = copy.copy(trial)
    view.intermediate_values = values
    return view


class ScheduleAwarePruner(optuna.pruners.BasePruner):
    """Pruner that wraps another and shows it each trial at its schedule's phase.

    :meth:`prune` asks the wrapped pruner about :func:`phase_view` of the trial: the best
    ``val_loss`` so far (a cyclical trial at the peak of its rate is judged by what it has
    reached), at the step where a trial at full rate would have trained as much (a warm-up is
    judged later by its lag, not exempted). A trial with nothing to show yet (all its epochs
    inside the lag) is not pruned.

    Wrapping a ``HyperbandPruner`` works, but Optuna's samplers only restrict themselves to a
    Hyperband bracket's trials when ``study.pruner`` *is* a ``HyperbandPruner``; use
    :class:`ScheduleAwareHyperbandPruner` to keep that.

    Args:
        wrapped: the pruner that decides.
    """

    def __init__(self, wrapped: optuna.pruners.BasePruner) -> None:
        if not isinstance(wrapped, optuna.pruners.BasePruner):
            raise TypeError(
                "Argument `wrapped` must be an optuna.pruners.BasePruner. "
                f"Received: wrapped={wrapped!r}"
            )
        self.wrapped = wrapped

    def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
        view = phase_view(trial)
        if view.last_step is None:
            return False
        return self.wrapped.prune(study, view)


class ScheduleAwareHyperbandPruner(optuna.pruners.HyperbandPruner):
    """``HyperbandPruner`` (same arguments) that judges each trial at its schedule's phase.

    A subclass rather than a :class:`ScheduleAwarePruner` around a ``HyperbandPruner``, so that
    Optuna's samplers still see only the trials of the trial's own bracket.
    """

    def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
        view = phase_view(trial)
        if view.last_step is None:
            return False
        return super().prune(study, view)


class PrunerFactory(Protocol):
    """``factory(epochs, schedule_aware=...) -> pruner`` for a study of ``epochs`` epochs."""

    def __call__(
        self, epochs: int, *, schedule_aware: bool = False
    ) -> optuna.pruners.BasePruner: ...


def _median(epochs: int, *, schedule_aware: bool = False) -> optuna.pruners.BasePruner:
    pruner = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    return ScheduleAwarePruner(pruner) if schedule_aware else pruner


def _hyperband(epochs: int, *, schedule_aware: bool = False) -> optuna.pruners.BasePruner:
    cls = ScheduleAwareHyperbandPruner if schedule_aware else optuna.pruners.HyperbandPruner
    return cls(min_resource=1, max_resource=epochs)


def _halving(epochs: int, *, schedule_aware: bool = False) -> optuna.pruners.BasePruner:
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return ScheduleAwarePruner(pruner) if schedule_aware else pruner


def _none(epochs: int, *, schedule_aware: bool = False) -> optuna.pruners.BasePruner:
    return optuna.pruners.NopPruner()  # never prunes: nothing to spare


#: ``--pruner`` name -> factory: ``median`` (after 5 finished trials, from the 2nd epoch),
#: ``hyperband`` (resources 1 to ``epochs`` epochs), ``halving`` (asynchronous successive
#: halving: a trial goes on past epochs 2, 4 and 10 only if it is in the best third of the
#: trials that reached them), ``none``
PRUNERS: dict[str, PrunerFactory] = {
    "median": _median,
    "hyperband": _hyperband,
    "halving": _halving,
    "none": _none,
}


def make_pruner(
    name: str, epochs: int, *, schedule_aware: bool = True
) -> optuna.pruners.BasePruner:
    """The pruner registered as ``name`` for trials of ``epochs`` epochs.

    ``schedule_aware=True`` (the default of ``lrsearch tune``): each trial is judged at its
    schedule's phase (see :class:`ScheduleAwarePruner`).

    Raises:
        ValueError: ``name`` is not in :data:`PRUNERS` (the message lists the choices).
    """
    factory = PRUNERS.get(name)
    if factory is None:
        choices = ", ".join(repr(n) for n in PRUNERS)
        raise ValueError(f"Argument `name` must be one of {choices}. Received: name={name!r}")
    return factory(epochs, schedule_aware=schedule_aware)
