"""``OptunaSearch``: a KerasTuner tuner whose search is an Optuna study."""

from __future__ import annotations

from typing import Any

import keras_tuner
import optuna

from lrsearch.kerastuner._oracle import OptunaOracle

#: the keyword arguments ``keras_tuner.RandomSearch`` hands to its oracle
ORACLE_KWARGS = (
    "hyperparameters",
    "tune_new_entries",
    "allow_new_entries",
    "max_retries_per_trial",
    "max_consecutive_failed_trials",
)


class OptunaSearch(keras_tuner.Tuner):
    """``keras_tuner.RandomSearch``'s drop-in, searching with Optuna and pruning per epoch.

    Change two lines of a KerasTuner script (the import and the class name)::

        from lrsearch.kerastuner import OptunaSearch

        tuner = OptunaSearch(build_model, objective="val_accuracy", max_trials=20,
                             directory="tuning", project_name="digits")
        tuner.search(x, y, epochs=10, validation_data=(x_val, y_val))
        best_hp = tuner.get_best_hyperparameters()[0]
        tuner.study                     # the optuna.Study: dashboard, plots, lrsearch report

    Each trial is an Optuna trial (:class:`OptunaOracle`): the study's sampler draws the
    hyperparameters (TPE by default), each epoch's objective is an intermediate value, and the
    study's pruner stops poor trials (Optuna state PRUNED). A hypermodel that draws its
    learning-rate schedule with ``space.from_hp(hp)`` gets the schedule applied
    (:class:`TrialCallback`) and its trials carry the ``family``, ``spec`` and ``history``
    user attributes of ``lrsearch tune`` trials, so ``lrsearch best/report/dashboard`` read
    the study.

    ``max_trials`` counts the study's trials: a second search on the same storage and study
    name resumes (``overwrite=False``, KerasTuner's default); ``overwrite=True`` deletes the
    study and starts afresh. Several processes given one PostgreSQL ``storage`` and
    ``study_name`` share one search; each process's ``directory`` holds the checkpoints of the
    trials it ran (``get_best_models`` loads from there).

    Args:
        hypermodel: a ``keras_tuner.HyperModel`` or a ``build_model(hp)`` function.
        objective, max_trials, storage, study_name, sampler, pruner, seed: as
            :class:`OptunaOracle` (the default storage is ``directory/project_name/
            optuna_study.db``, the default study name ``project_name``).
        hyperparameters, tune_new_entries, allow_new_entries, max_retries_per_trial,
            max_consecutive_failed_trials: as ``keras_tuner.RandomSearch``.
        **tuner_kwargs: ``keras_tuner.Tuner``'s: ``executions_per_trial``, ``directory``,
            ``project_name``, ``overwrite``, ``max_model_size``, ``optimizer``, ``loss``,
            ``metrics``, ``distribution_strategy``, ``tuner_id``, ...
    """

    oracle: OptunaOracle

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = "val_loss",
        max_trials: int = 10,
        *,
        storage: str | optuna.storages.BaseStorage | None = None,
        study_name: str | None = None,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
        seed: int | None = None,
        **tuner_kwargs: Any,
    ) -> None:
        # what RandomSearch passes to its oracle goes to ours; the rest to the Tuner
        oracle_kwargs = {k: tuner_kwargs.pop(k) for k in ORACLE_KWARGS if k in tuner_kwargs}
        oracle = OptunaOracle(
            objective, max_trials, storage=storage, study_name=study_name, sampler=sampler,
            pruner=pruner, seed=seed, **oracle_kwargs,
        )  # fmt: skip
        self._last_results: dict[str, Any] = {}
        super().__init__(oracle, hypermodel, **tuner_kwargs)
        # Open (or create) the study now, after KerasTuner has wiped the project for
        # overwrite=True: a study that does not fit (another direction) fails here, not later.
        _ = self.oracle.study

    @property
    def study(self) -> optuna.Study:
        """The ``optuna.Study`` whose trials this tuner runs."""
        return self.oracle.study

    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """KerasTuner's ``search``; a trial interrupted by an exception ends FAIL in the study."""
        try:
            super().search(*fit_args, **fit_kwargs)
        finally:
            self.oracle.abandon_running()

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        # the oracle's TrialCallback is added by the wrapper OptunaOracle puts on this method
        try:
            return super().run_trial(trial, *args, **kwargs)
        finally:
            self._last_results.pop(trial.trial_id, None)

    def _build_and_fit_model(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        # A pruned trial trains no further executions: KerasTuner averages the one it ran.
        if self.oracle.is_pruned(trial.trial_id) and trial.trial_id in self._last_results:
            return self._last_results[trial.trial_id]
        results = super()._build_and_fit_model(trial, *args, **kwargs)
        self._last_results[trial.trial_id] = results
        return results

    def on_search_end(self) -> None:
        super().on_search_end()
        from lrsearch.dashboard import refresh_study_views

        refresh_study_views(self.study)
