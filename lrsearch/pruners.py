"""Pruners of a schedule search: spare each trial's warm-up, and a registry by name.

A median pruner compares a trial's ``val_loss`` at epoch ``e`` with other trials' at ``e``. A
trial still warming up (its rate ramping from ``start_lr``) is not comparable with trials that
train at full rate from the first epoch, so :class:`ScheduleAwarePruner` wraps any Optuna pruner
(as Optuna's ``PatientPruner`` does) and never prunes a trial during its warm-up; afterwards the
wrapped pruner decides. It reads the warm-up from the trial itself (:func:`warmup_epochs_of`),
so it needs no Keras and serves any Optuna study::

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


class ScheduleAwarePruner(optuna.pruners.BasePruner):
    """Pruner that wraps another and never prunes a trial during its learning-rate warm-up.

    While :func:`in_warmup` holds for the trial, :meth:`prune` returns ``False`` without asking
    the wrapped pruner; afterwards it returns the wrapped pruner's answer.

    Wrapping a ``HyperbandPruner`` works, but Optuna's samplers only restrict themselves to a
    Hyperband bracket's trials when ``study.pruner`` *is* a ``HyperbandPruner``; use
    :class:`ScheduleAwareHyperbandPruner` to keep that.

    Args:
        wrapped: the pruner that decides outside warm-ups.
    """

    def __init__(self, wrapped: optuna.pruners.BasePruner) -> None:
        if not isinstance(wrapped, optuna.pruners.BasePruner):
            raise TypeError(
                "Argument `wrapped` must be an optuna.pruners.BasePruner. "
                f"Received: wrapped={wrapped!r}"
            )
        self.wrapped = wrapped

    def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
        if in_warmup(trial):
            return False
        return self.wrapped.prune(study, trial)


class ScheduleAwareHyperbandPruner(optuna.pruners.HyperbandPruner):
    """``HyperbandPruner`` (same arguments) that never prunes a trial during its warm-up.

    A subclass rather than a :class:`ScheduleAwarePruner` around a ``HyperbandPruner``, so that
    Optuna's samplers still see only the trials of the trial's own bracket.
    """

    def prune(self, study: optuna.study.Study, trial: optuna.trial.FrozenTrial) -> bool:
        if in_warmup(trial):
            return False
        return super().prune(study, trial)


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


def _none(epochs: int, *, schedule_aware: bool = False) -> optuna.pruners.BasePruner:
    return optuna.pruners.NopPruner()  # never prunes: nothing to spare


#: ``--pruner`` name -> factory: ``median`` (after 5 finished trials, from the 2nd epoch),
#: ``hyperband`` (resources 1 to ``epochs`` epochs), ``none``
PRUNERS: dict[str, PrunerFactory] = {"median": _median, "hyperband": _hyperband, "none": _none}


def make_pruner(
    name: str, epochs: int, *, schedule_aware: bool = True
) -> optuna.pruners.BasePruner:
    """The pruner registered as ``name`` for trials of ``epochs`` epochs.

    ``schedule_aware=True`` (the default of ``lrsearch tune``): warm-ups are spared (see
    :class:`ScheduleAwarePruner`).

    Raises:
        ValueError: ``name`` is not in :data:`PRUNERS` (the message lists the choices).
    """
    factory = PRUNERS.get(name)
    if factory is None:
        choices = ", ".join(repr(n) for n in PRUNERS)
        raise ValueError(f"Argument `name` must be one of {choices}. Received: name={name!r}")
    return factory(epochs, schedule_aware=schedule_aware)
