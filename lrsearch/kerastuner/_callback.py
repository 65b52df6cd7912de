"""``TrialCallback``: what an Optuna trial needs from each epoch of a KerasTuner ``fit``."""

from __future__ import annotations

import functools
from typing import Any

import keras

from lrsearch.checks import finite_or_none
from lrsearch.space import ScheduleSpec
from lrsearch.space import drawn_spec


class TrialCallback(keras.callbacks.Callback):
    """Applies the trial's lrsearch schedule, records history, reports and prunes per epoch.

    Every tuner built on an :class:`OptunaOracle` (:class:`lrsearch.kerastuner.OptunaSearch`,
    a plain ``keras_tuner.Tuner`` or a subclass) adds one to every ``fit`` of a trial
    (:func:`attach_trial_callback`). ``oracle.trial_callback()`` makes one for a ``fit`` the
    tuner does not run: it then works on the trial the oracle handed to this thread.

    * When the hypermodel drew its schedule with ``space.from_hp(hp)``
      (:meth:`lrsearch.SearchSpace.from_hp`), the spec's callbacks
      (:meth:`lrsearch.ScheduleSpec.callbacks`) run inside this one, so ``build`` only compiles
      with ``spec.build_optimizer()`` and ``fit`` needs no override; the trial gets the user
      attributes ``family``, ``spec`` and ``epochs`` before training, as ``lrsearch tune``
      trials do (the schedule-aware pruner reads the warm-up from ``spec``).
    * After each epoch: the logs go into the trial's ``history`` user attribute (every
      numeric key: ``loss``, ``val_loss``, ``learning_rate``, metrics; non-finite as
      ``None``), and :meth:`OptunaOracle.report_epoch` reports the objective; when it says
      stop (pruned or diverged), ``model.stop_training`` ends the ``fit`` cleanly.
    * Only the first ``fit`` of a trial reports (with ``executions_per_trial > 1`` later ones
      run on, and KerasTuner averages their results).

    Deep copies (KerasTuner copies the callbacks of every execution) share the oracle.
    """

    def __init__(self, oracle: Any, trial_id: str | None = None) -> None:
        """``oracle``: an :class:`OptunaOracle`; ``trial_id``: default, the oracle's current."""
        super().__init__()
        self.oracle = oracle
        self.trial_id = trial_id
        self.history: dict[str, list[float | None]] = {}
        self.spec: ScheduleSpec | None = None
        self._inner: list[keras.callbacks.Callback] = []
        self._tid: str | None = None
        self._first = False

    def __deepcopy__(self, memo: dict[int, Any]) -> TrialCallback:
        return type(self)(self.oracle, self.trial_id)

    def _forward(self, hook: str, *args: Any) -> None:
        for callback in self._inner:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._tid = self.trial_id or self.oracle.current_trial_id()
        self.history = {}
        if self._tid is None or self._tid not in self.oracle.trials:
            self._inner, self.spec, self._first = [], None, False
            return
        self._first = self.oracle.begin_execution(self._tid)
        self.spec = drawn_spec(self.oracle.trials[self._tid].hyperparameters)
        self._inner = self.spec.callbacks() if self.spec is not None else []
        for callback in self._inner:
            callback.set_model(self.model)
            callback.set_params(self.params)
        self._forward("on_train_begin", logs)
        if self.spec is not None and self._first:
            self.oracle.set_user_attrs(
                self._tid,
                {
                    "family": self.spec.family,
                    "spec": self.spec.to_dict(),
                    "epochs": (self.params or {}).get("epochs"),
                },
            )

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._forward("on_epoch_begin", epoch, logs)

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._forward("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._forward("on_train_batch_end", batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        self._forward("on_epoch_end", epoch, logs)
        for key, value in logs.items():
            if isinstance(value, (int, float)) or hasattr(value, "__float__"):
                self.history.setdefault(key, []).append(finite_or_none(value))
        if self._first and self._tid is not None:
            if self.oracle.report_epoch(self._tid, epoch, logs):
                self.model.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._forward("on_train_end", logs)
        if self._first and self._tid is not None:
            self.oracle.set_user_attrs(self._tid, {"history": self.history})
            self.oracle.trial_ended_training(self._tid, self.spec, self.history)


def attach_trial_callback(tuner: Any, oracle: Any) -> None:
    """Make ``tuner.run_trial`` pass a :class:`TrialCallback` to the trial's ``fit`` calls.

    KerasTuner 1.x tuners no longer report epochs to their oracle (``Tuner.on_epoch_end`` does
    nothing; the oracle hears of a trial once, when it ends), so :class:`OptunaOracle` adds its
    callback to the ``callbacks`` keyword of the tuner's ``run_trial`` when a tuner is created
    on it. ``Tuner.run_trial`` hands them to every execution's ``fit``; a subclass's
    ``run_trial`` that passes its ``**kwargs`` on to ``fit``, as KerasTuner's guide shows,
    does too. A callback of this oracle already in the list is not added twice.
    """
    run_trial = tuner.run_trial
    if getattr(run_trial, "_lrsearch_oracle", None) is oracle:
        return

    @functools.wraps(run_trial)
    def run_trial_reported(trial: Any, *args: Any, **kwargs: Any) -> Any:
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if not any(isinstance(c, TrialCallback) and c.oracle is oracle for c in callbacks):
            callbacks.append(TrialCallback(oracle, trial.trial_id))
        return run_trial(trial, *args, callbacks=callbacks, **kwargs)

    run_trial_reported._lrsearch_oracle = oracle  # type: ignore[attr-defined]
    tuner.run_trial = run_trial_reported
