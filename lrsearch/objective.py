"""The trial: build, compile, fit with the drawn schedule, report, prune, record.

One :class:`Objective` per process holds the data and the model recipe; calling it with an
``optuna.trial.Trial`` trains one model and returns its best ``val_loss``. The search itself
(sampler, pruner, storage) lives in :mod:`lrsearch.runner` and knows nothing of Keras.

Recorded on every trial (finished, pruned or diverged):

* user attribute ``family``; ``spec`` (:meth:`ScheduleSpec.to_dict`); ``history``, a dict of
  per-epoch lists ``loss``, ``val_loss``, ``learning_rate`` and ``accuracy`` /
  ``val_accuracy`` (classification) or ``mae`` / ``val_mae`` (regression) where measured
  (non-finite values stored as ``None``);
* ``val_loss`` of every epoch as Optuna intermediate values (the pruner's input);
* on divergence (NaN or inf loss): state PRUNED with ``pruned_reason`` and ``diverged_lr``,
  and the constraint ``diverged`` set to 1.0 (:meth:`optuna.trial.Trial.set_constraint`,
  :data:`DIVERGED_CONSTRAINT`): the trial is infeasible, so Optuna's samplers rank it below
  every trial that trained. For TPE that matters only when too few trials trained to fill its
  good group; ``benchmarks/bench_search.py``'s ablation (``lrsearch-noconstraint``) measured
  no effect, since a diverged (pruned) trial is among TPE's bad trials either way.

Pruning is the study's pruner's decision: :class:`TrialReporter` reports each epoch's
``val_loss`` and asks ``trial.should_prune()``. Sparing warm-ups is the pruner's job too
(:class:`lrsearch.pruners.ScheduleAwarePruner` reads the ``spec`` attribute set before training).
What else happens after a trial (the trial's picture or dashboard note) is a hook,
``on_trial_end``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import keras
import optuna

from lrsearch.checks import diverged_key
from lrsearch.checks import finite_or_none
from lrsearch.space import ScheduleSpec
from lrsearch.space import SearchSpace
from lrsearch.tasks import HISTORY_METRICS
from lrsearch.training import Trainer

HISTORY_KEYS = ("loss", "val_loss", "learning_rate", *HISTORY_METRICS)
#: the constraint (``trial.constraints``) a diverged trial violates (set to 1.0)
DIVERGED_CONSTRAINT = "diverged"

#: ``on_trial_end(trial, spec, history)``: after each trial, whatever its end
TrialEndHook = Callable[[optuna.trial.Trial, ScheduleSpec, dict[str, list[float | None]]], None]


class Diverged(Exception):
    """Raised from inside ``fit`` when the loss turns NaN or infinite."""

    def __init__(self, epoch: int, metric: str, learning_rate: float | None) -> None:
        lr = "unknown" if learning_rate is None else f"{learning_rate:.6g}"
        super().__init__(
            f"diverged: {metric} became NaN or infinite in epoch {epoch} (learning rate {lr})"
        )
        self.epoch = epoch
        self.learning_rate = learning_rate


class TrialReporter(keras.callbacks.Callback):
    """Records history, reports ``val_loss`` to Optuna, prunes, and detects divergence.

    After each epoch with a ``val_loss`` it reports it and raises ``optuna.TrialPruned`` when
    ``trial.should_prune()`` says so: how a warm-up is judged (see
    :class:`lrsearch.pruners.ScheduleAwarePruner`) is the study's pruner's decision.
    """

    def __init__(
        self,
        trial: optuna.trial.Trial,
        *,
        should_stop: Callable[[], bool] | None = None,
    ):
        super().__init__()
        self.should_stop = should_stop
        self.trial = trial
        self.history: dict[str, list[float | None]] = {}

    def _check_stop(self) -> None:
        # A Ctrl-C raised inside a destructor or a library callback is swallowed there
        # ("Exception ignored in ..."); the flag it left behind stops training here instead.
        if self.should_stop is not None and self.should_stop():
            raise KeyboardInterrupt

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._check_stop()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._check_stop()
        logs = logs or {}
        for key in HISTORY_KEYS:
            if key in logs:
                self.history.setdefault(key, []).append(finite_or_none(logs[key]))
        lr = finite_or_none(logs.get("learning_rate"))
        broken = diverged_key(logs)
        if broken is not None:
            raise Diverged(epoch, broken, lr)
        val_loss = logs.get("val_loss")
        if val_loss is None:
            return
        self.trial.report(float(val_loss), epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(
                f"pruned at epoch {epoch}: val_loss {float(val_loss):.4g} worse than the pruner's "
                "threshold"
            )


class Objective:
    """``objective(trial) -> best val_loss`` for :func:`optuna.Study.optimize`.

    Sparing a warm-up from pruning is the study pruner's job
    (:class:`lrsearch.pruners.ScheduleAwarePruner`); the trial only reports and asks.

    Args:
        space: what to draw.
        trainer: how to train (data, model recipe, batch size).
        epochs: epochs per trial.
        seed: base seed; trial ``n`` trains with ``seed + n``.
        on_spec: called with each drawn spec before training (progress display).
        should_stop: polled before every batch; when it returns True, training stops with
            ``KeyboardInterrupt`` (a Ctrl-C whose own exception was swallowed somewhere).
        on_trial_end: called as ``on_trial_end(trial, spec, history)`` after each trial
            however it ended (finished, pruned, diverged, interrupted), once its ``history``
            attribute is stored; e.g. :func:`lrsearch.dashboard.write_trial_note`. Never fatal:
            an exception it raises is reported once on stderr and the trial ends as it would
            have.
        callbacks: more Keras callbacks for every trial's ``fit``, called before the one that
            reports and prunes (so a progress display sees the epoch a trial stopped at).
    """

    def __init__(
        self,
        space: SearchSpace,
        trainer: Trainer,
        *,
        epochs: int,
        seed: int = 0,
        on_spec: Callable[[optuna.trial.Trial, ScheduleSpec], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_trial_end: TrialEndHook | None = None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
    ) -> None:
        self.space = space
        self.trainer = trainer
        self.epochs = epochs
        self.seed = seed
        self.on_spec = on_spec
        self.should_stop = should_stop
        self.on_trial_end = on_trial_end
        self.callbacks = list(callbacks)
        self._hook_warned = False

    def _trial_ended(
        self,
        trial: optuna.trial.Trial,
        spec: ScheduleSpec,
        history: dict[str, list[float | None]],
    ) -> None:
        if self.on_trial_end is None:
            return
        try:
            self.on_trial_end(trial, spec, history)
        except Exception as exc:  # a hook is a nicety: never fail (or re-fail) a trial over it
            if not self._hook_warned:
                self._hook_warned = True
                print(
                    f"lrsearch: warning: the on_trial_end hook failed ({type(exc).__name__}: "
                    f"{exc}); tuning goes on.",
                    file=sys.stderr,
                )

    def __call__(self, trial: optuna.trial.Trial) -> float:
        spec = self.space.suggest(trial)
        trial.set_user_attr("family", spec.family)
        trial.set_user_attr("spec", spec.to_dict())
        trial.set_user_attr("seed", self.seed + trial.number)
        trial.set_user_attr("epochs", self.epochs)
        if self.on_spec is not None:
            self.on_spec(trial, spec)
        reporter = TrialReporter(trial, should_stop=self.should_stop)
        try:
            self.trainer.fit(
                spec, self.epochs, self.seed + trial.number, [*self.callbacks, reporter]
            )
        except Diverged as exc:
            trial.set_user_attr("pruned_reason", str(exc))
            trial.set_user_attr("diverged_lr", exc.learning_rate)
            trial.set_constraint(DIVERGED_CONSTRAINT, 1.0)
            raise optuna.TrialPruned(str(exc)) from None
        except optuna.TrialPruned as exc:
            trial.set_user_attr("pruned_reason", str(exc))
            raise
        finally:
            trial.set_user_attr("history", reporter.history)
            self._trial_ended(trial, spec, reporter.history)
        losses = [v for v in reporter.history.get("val_loss", []) if v is not None]
        if not losses:
            raise optuna.TrialPruned("no finite val_loss was measured")
        return min(losses)
