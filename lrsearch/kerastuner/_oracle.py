"""``OptunaOracle``: a KerasTuner oracle whose trials are an Optuna study's.

How the two kinds of trial meet:

* **One KerasTuner trial is one Optuna trial.** :meth:`OptunaOracle.create_trial` asks the
  study for a trial (``study.ask()``, so the study's sampler draws and a trial enqueued or
  retried by Optuna is taken first), draws the active hyperparameters through it
  (:func:`lrsearch.kerastuner.suggest_values`) and names the KerasTuner trial after the Optuna
  trial's number, zero-padded as KerasTuner does (``"07"`` is trial 7; stored as the user
  attribute ``keras_tuner_trial_id``). :meth:`end_trial` tells the study how it ended.
* **States.** KerasTuner COMPLETED -> Optuna COMPLETE with the trial's score; a pruned trial
  (or one whose objective or loss turned NaN or infinite) -> Optuna PRUNED with a
  ``pruned_reason``, and KerasTuner ``STOPPED`` with that reason as its message (not
  COMPLETED, so it never ranks among the best); INVALID or FAILED (the trial raised) ->
  Optuna FAIL, KerasTuner FAILED. KerasTuner's own retries are not used (one Optuna trial per
  attempt); a trial whose process died is failed by its stale heartbeat and retried with the
  same parameters by Optuna, as ``lrsearch tune`` does.
* **Per epoch.** :meth:`report_epoch` reports the objective as an intermediate value and asks
  the study's pruner; :class:`lrsearch.kerastuner.TrialCallback` calls it after each epoch and
  stops training cleanly (``model.stop_training``) when the trial is pruned. KerasTuner 1.x
  tuners report nothing per epoch to their oracle, so a tuner created on this oracle (it calls
  ``_set_project_dir`` from its ``__init__``) gets the callback added to its ``run_trial``'s
  ``fit`` calls (:func:`lrsearch.kerastuner.attach_trial_callback`): ``OptunaSearch``, a plain
  ``keras_tuner.Tuner`` and their subclasses report alike.
* **The study is the record.** Trials finished by earlier runs or by other processes on the
  same storage are read back from the study (``trials``, ``get_best_trials``,
  ``remaining_trials``); ``max_trials`` counts the study's trials in total.

Several processes given one storage and study name share one search with no chief: each asks
the study for its next trial. As with Optuna's ``MaxTrialsCallback``, processes starting a trial
at the same moment may together run a few trials past ``max_trials``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from typing import Literal

import keras_tuner
import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState

from lrsearch.checks import finite_or_none
from lrsearch.kerastuner._callback import TrialCallback
from lrsearch.kerastuner._callback import attach_trial_callback
from lrsearch.kerastuner._distributions import suggest_values
from lrsearch.pruners import ScheduleAwarePruner
from lrsearch.storage import open_storage
from lrsearch.storage import study_names

TrialStatus = keras_tuner.engine.trial.TrialStatus
KTrial = keras_tuner.engine.trial.Trial

#: user attribute holding the KerasTuner trial id of an Optuna trial
TRIAL_ID_ATTR = "keras_tuner_trial_id"
#: user attribute naming the process that ran a trial (``host:pid``)
WORKER_ATTR = "keras_tuner_worker"
#: user attribute holding the epoch of the trial's best objective (KerasTuner's ``best_step``)
BEST_STEP_ATTR = "keras_tuner_best_step"
#: study user attribute: the name of the objective the study's values are
OBJECTIVE_ATTR = "keras_tuner_objective"
#: the default study database, in ``directory/project_name``
DEFAULT_DB = "optuna_study.db"
#: written to ``directory/project_name`` so a project wiped by ``overwrite=True`` is noticed
MARKER = "optuna_oracle.json"

_STATUS = {
    TrialState.COMPLETE: TrialStatus.COMPLETED,
    TrialState.PRUNED: TrialStatus.STOPPED,
    TrialState.FAIL: TrialStatus.FAILED,
    TrialState.RUNNING: TrialStatus.RUNNING,
}
_FINAL = (TrialStatus.COMPLETED, TrialStatus.STOPPED, TrialStatus.FAILED)


def default_sampler(max_trials: int, seed: int | None) -> optuna.samplers.TPESampler:
    """The default sampler: multivariate TPE over the co-occurring parameter groups.

    ``group=True`` fits one joint model per set of parameters that occur together (a
    conditional scope's, a schedule family's), and the random start is sized to the budget,
    ``n_startup_trials = min(10, max(4, max_trials // 4))``: Optuna's 10 would make a
    10-trial search a random one. ``constant_liar`` keeps processes sharing a study from
    drawing the same point.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            group=True,
            constant_liar=True,
            n_startup_trials=min(10, max(4, max_trials // 4)),
        )


class _Heartbeat:
    """Records a running trial's heartbeat every interval, so a killed process's trial fails."""

    def __init__(self, storage: Any, study_name: str, number: int) -> None:
        self._stop = threading.Event()
        interval = (
            storage.get_heartbeat_interval() if hasattr(storage, "record_heartbeat") else None
        )
        if not interval:
            self._thread = None
            return
        study_id = storage.get_study_id_from_name(study_name)
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
        # The first beat now, not in the thread: a trial with no heartbeat recorded is never
        # seen as stale, so a process killed before the thread's first beat would leave it
        # RUNNING for good.
        storage.record_heartbeat(trial_id)

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    storage.record_heartbeat(trial_id)
                except Exception:  # a missed beat is retried; a dead storage fails the trial
                    pass

        self._thread = threading.Thread(target=beat, name=f"heartbeat-{number}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class OptunaOracle(keras_tuner.Oracle):
    """A ``keras_tuner.Oracle`` whose trials are the trials of an Optuna study.

    Use it with :class:`lrsearch.kerastuner.OptunaSearch` (which reports every epoch and
    applies lrsearch schedules), or with any ``keras_tuner.Tuner``:
    ``keras_tuner.Tuner(oracle=OptunaOracle(...), hypermodel=...)``; with a plain tuner, pass
    ``callbacks=[oracle.trial_callback()]`` to ``search`` for per-epoch reports and pruning.

    Args:
        objective: as KerasTuner takes it: a metric name (``"val_loss"``; the direction is
            inferred as KerasTuner does: ``max`` for accuracy-like names), a
            ``keras_tuner.Objective``, or a list of them (KerasTuner's combined objective,
            minimised). The study's direction matches.
        max_trials: trials of the study in total (earlier runs and other processes count).
        storage: an SQLAlchemy URL or an ``optuna.storages.BaseStorage``. Default: the SQLite
            file ``optuna_study.db`` in the tuner's ``directory/project_name``. SQLite runs in
            WAL mode with lock waits and heartbeats (:func:`lrsearch.storage.open_storage`).
        study_name: default: the tuner's ``project_name``.
        sampler: default :func:`default_sampler` (multivariate TPE, random start sized to
            ``max_trials``).
        pruner: default median pruning (after 5 finished trials, from the 2nd epoch) that
            judges lrsearch warm-ups at their phase
            (:class:`lrsearch.pruners.ScheduleAwarePruner`).
        seed: seeds the default sampler and KerasTuner's oracle.
        **oracle_kwargs: ``keras_tuner.Oracle``'s: ``hyperparameters``, ``tune_new_entries``,
            ``allow_new_entries``, ``max_consecutive_failed_trials``
            (``max_retries_per_trial`` is accepted and unused: see the module docstring).

    Raises:
        ValueError: ``max_trials`` is not a positive integer.
    """

    def __init__(
        self,
        objective: Any = "val_loss",
        max_trials: int = 10,
        *,
        storage: str | optuna.storages.BaseStorage | None = None,
        study_name: str | None = None,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
        seed: int | None = None,
        **oracle_kwargs: Any,
    ) -> None:
        if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
            raise ValueError(
                "Argument `max_trials` must be an integer >= 1. "
                f"Received: max_trials={max_trials!r}"
            )
        super().__init__(objective=objective, max_trials=max_trials, seed=seed, **oracle_kwargs)
        self.storage = storage
        self.study_name = study_name
        self.sampler = sampler or default_sampler(max_trials, seed)
        self.pruner = pruner or ScheduleAwarePruner(
            optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
        )
        self._study: optuna.Study | None = None
        self._rdb: Any = None
        self._running: dict[str, optuna.trial.Trial] = {}
        self._beats: dict[str, _Heartbeat] = {}
        self._pruned: dict[str, str] = {}
        self._executions: dict[str, int] = {}
        self._current = threading.local()

    # -- the study ------------------------------------------------------------------------

    @property
    def direction(self) -> Literal["minimize", "maximize"]:
        """``"maximize"`` or ``"minimize"``, from the objective's direction."""
        return "maximize" if self.objective.direction == "max" else "minimize"

    def _set_project_dir(self, directory: Any, project_name: Any) -> None:
        super()._set_project_dir(directory, project_name)
        self._marker().write_text(json.dumps({"study_name": self._name()}))
        # KerasTuner's BaseTuner.__init__ calls this with the tuner as its ``self``
        frame = sys._getframe(1)
        tuner = frame.f_locals.get("self")
        del frame
        if isinstance(tuner, keras_tuner.Tuner) and getattr(tuner, "oracle", None) is self:
            attach_trial_callback(tuner, self)

    def _marker(self) -> Path:
        return Path(self._project_dir) / MARKER

    def _name(self) -> str:
        return self.study_name or getattr(self, "_project_name", None) or "keras_tuner"

    @property
    def study(self) -> optuna.Study:
        """The ``optuna.Study`` (opened, or created, on first use)."""
        if self._study is None:
            self._study = self._open()
        return self._study

    def _open(self) -> optuna.Study:
        has_dir = getattr(self, "_project_name", None) is not None
        storage: Any = self.storage
        if storage is None:
            if not has_dir:
                raise ValueError(
                    "OptunaOracle has no storage yet: pass `storage=` (a database URL), or use "
                    "it inside a Tuner, whose directory/project_name holds the default SQLite "
                    "study."
                )
            storage = f"sqlite:///{(Path(self._project_dir) / DEFAULT_DB).resolve()}"
        if isinstance(storage, str):
            storage = open_storage(storage, create=True)
        self._rdb = storage
        name = self._name()
        wiped = has_dir and not self._marker().exists()  # the tuner's overwrite=True
        if wiped and name in study_names(storage):
            optuna.delete_study(study_name=name, storage=storage)
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            direction=self.direction,
            sampler=self.sampler,
            pruner=self.pruner,
            load_if_exists=True,
        )
        if study.direction.name.lower() != self.direction:
            raise ValueError(
                f"The study {name!r} {study.direction.name.lower()}s, but the objective "
                f"{self.objective.name!r} asks to {self.direction}. Pass another `study_name`, or "
                "`overwrite=True` to start it afresh."
            )
        stored = study.user_attrs.get(OBJECTIVE_ATTR)
        if stored is None:
            study.set_user_attr(OBJECTIVE_ATTR, str(self.objective.name))
        elif stored != str(self.objective.name):
            raise ValueError(
                f"The study {name!r} was searched on {stored!r}, not on "
                f"{self.objective.name!r}: its trials' values are not comparable. Pass another "
                "`study_name`, or `overwrite=True` to start it afresh."
            )
        if has_dir:
            self._marker().write_text(json.dumps({"study_name": name}))
        return study

    # -- ids and reading the study back -----------------------------------------------------

    def _format_id(self, number: int) -> str:
        return f"{number:0{len(str(self.max_trials))}d}"

    def trial_id_of(self, trial: FrozenTrial) -> str:
        """The KerasTuner trial id of an Optuna trial."""
        stored = trial.user_attrs.get(TRIAL_ID_ATTR)
        return stored if isinstance(stored, str) else self._format_id(trial.number)

    def optuna_trial_number(self, trial_id: str) -> int:
        """The Optuna trial number of a KerasTuner trial id (``KeyError`` if unknown)."""
        for t in self.study.get_trials(deepcopy=False):
            if self.trial_id_of(t) == trial_id:
                return t.number
        raise KeyError(trial_id)

    def _counted(self, trials: list[FrozenTrial]) -> int:
        """Trials that count towards ``max_trials``: all but waiting ones and failed ones that
        Optuna retried (the retry counts instead)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retried = {
                optuna.storages.RetryFailedTrialCallback.retried_trial_number(t) for t in trials
            }
        return sum(1 for t in trials if t.state != TrialState.WAITING and t.number not in retried)

    def _sync(self) -> list[FrozenTrial]:
        """Bring ``self.trials`` up to date with the study (other processes, earlier runs)."""
        trials = self.study.get_trials(deepcopy=False)
        for ft in trials:
            status = _STATUS.get(ft.state)
            tid = self.trial_id_of(ft)
            if status is None or tid in self._running:
                continue
            known = self.trials.get(tid)
            if known is not None and known.status in _FINAL:
                continue
            hp = self.hyperparameters.copy()
            hp.values = dict(ft.params)
            kt = KTrial(hyperparameters=hp, trial_id=tid, status=status)
            kt.message = ft.user_attrs.get("pruned_reason")
            kt.best_step = int(ft.user_attrs.get(BEST_STEP_ATTR, 0) or 0)
            if ft.state == TrialState.COMPLETE and ft.value is not None:
                kt.score = ft.value
                kt.metrics.register(self.objective.name, direction=self.objective.direction)
                kt.metrics.update(self.objective.name, ft.value, step=kt.best_step)
            self.trials[tid] = kt
        return trials

    # -- KerasTuner's Oracle API ----------------------------------------------------------

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """Random values of the space, as KerasTuner's ``RandomSearchOracle`` fills them
        (``STOPPED`` once no new combination is left); nothing is recorded in the study.

        The oracle's own trials do not come from here: :meth:`create_trial` draws them from
        ``study.ask()`` (the sampler's choice, named by the Optuna trial's number), since
        KerasTuner calls ``populate_space`` with an id before any value is drawn.
        """
        values = self._random_values()
        if values is None:
            return {"status": TrialStatus.STOPPED, "values": None}
        return {"status": TrialStatus.RUNNING, "values": values}

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> Any:
        """The next trial: the study's next (waiting trials first), or ``STOPPED`` when the
        study holds ``max_trials`` trials."""
        if tuner_id in self.ongoing_trials:
            return self.ongoing_trials[tuner_id]
        self.tuner_ids.add(tuner_id)
        study = self.study
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        if self.max_trials and self._counted(self._sync()) >= self.max_trials:
            self.tuner_ids.discard(tuner_id)
            return KTrial(self.hyperparameters.copy(), status=TrialStatus.STOPPED)
        with warnings.catch_warnings():  # our own heartbeat thread runs for ask-and-tell
            warnings.filterwarnings("ignore", message=".*Heartbeat.*optimize.*")
            ot = study.ask()
        trial_id = self._format_id(ot.number)
        self._beats[trial_id] = _Heartbeat(self._rdb, study.study_name, ot.number)
        ot.set_user_attr(TRIAL_ID_ATTR, trial_id)
        ot.set_user_attr(WORKER_ATTR, f"{socket.gethostname()}:{os.getpid()}")
        hp = self.hyperparameters.copy()
        try:
            hp.values = suggest_values(self.hyperparameters, ot)
        except Exception as exc:
            self._beats.pop(trial_id).stop()
            study.tell(ot, state=TrialState.FAIL)
            raise ValueError(f"Cannot draw trial {trial_id}'s hyperparameters: {exc}") from exc
        trial = KTrial(hyperparameters=hp, trial_id=trial_id, status=TrialStatus.RUNNING)
        self._running[trial_id] = ot
        self._current.trial_id = trial_id
        self.ongoing_trials[tuner_id] = trial
        self.trials[trial_id] = trial
        self.start_order.append(trial_id)
        self._save_trial(trial)
        self.save()
        self._display.on_trial_begin(trial)
        return trial

    def current_trial_id(self) -> str | None:
        """The trial this thread's tuner runs now (the last one it created), if running."""
        trial_id = getattr(self._current, "trial_id", None)
        return trial_id if trial_id in self._running else None

    def trial_callback(self) -> TrialCallback:
        """The callback that reports each epoch of this thread's current trial (and applies its
        lrsearch schedule). Tuners built on this oracle add it to every ``fit`` by themselves
        (:func:`attach_trial_callback`); a ``fit`` the tuner does not run (a custom loop) can
        pass ``callbacks=[oracle.trial_callback()]``."""
        return TrialCallback(self)

    def trial_ended_training(
        self, trial_id: str, spec: Any, history: Mapping[str, list[float | None]]
    ) -> None:
        """After the reported ``fit``: the dashboard's trial note and picture (an Optuna
        artifact beside a SQLite study, or at ``$LRSEARCH_ARTIFACT_DIR``) for an lrsearch
        schedule."""
        ot = self._running.get(trial_id)
        if ot is not None and spec is not None:
            from lrsearch.dashboard import trial_views_for

            trial_views_for(self._rdb)(ot, spec, history)

    def begin_execution(self, trial_id: str) -> bool:
        """Count a ``fit`` of the trial; ``True`` for its first (the one reported per epoch)."""
        self._executions[trial_id] = self._executions.get(trial_id, 0) + 1
        return self._executions[trial_id] == 1

    def is_pruned(self, trial_id: str) -> bool:
        """Whether the running trial has been pruned (or diverged)."""
        return trial_id in self._pruned

    def set_user_attrs(self, trial_id: str, attrs: Mapping[str, Any]) -> None:
        """Set user attributes of the running trial's Optuna trial (ignored when not running)."""
        ot = self._running.get(trial_id)
        if ot is not None:
            for key, value in attrs.items():
                ot.set_user_attr(key, value)

    def optuna_trial(self, trial_id: str) -> optuna.trial.Trial | None:
        """The running trial's ``optuna.trial.Trial`` (``None`` once it has ended)."""
        return self._running.get(trial_id)

    def report_epoch(self, trial_id: str, epoch: int, logs: Mapping[str, Any]) -> bool:
        """Report the epoch's objective; ``True`` when the trial must stop (pruned or diverged).

        A NaN or infinite objective or ``loss`` prunes the trial with that reason (and the
        epoch's ``learning_rate`` as ``diverged_lr``); otherwise the objective is an Optuna
        intermediate value at step ``epoch`` and the study's pruner decides.
        """
        ot = self._running.get(trial_id)
        if ot is None or trial_id in self._pruned:
            return trial_id in self._pruned
        name = self.objective.name
        value = self.objective.get_value(logs) if self.objective.has_value(logs) else None
        for key, v in (("loss", logs.get("loss")), (name, value)):
            if v is not None and finite_or_none(v) is None:
                lr = finite_or_none(logs.get("learning_rate"))
                self._pruned[trial_id] = (
                    f"diverged: {key} became NaN or infinite in epoch {epoch}"
                    + ("" if lr is None else f" (learning rate {lr:.6g})")
                )
                ot.set_user_attr("diverged_lr", lr)
                return True
        if value is None:
            return False
        ot.report(float(value), epoch)
        if ot.should_prune():
            self._pruned[trial_id] = (
                f"pruned at epoch {epoch}: {name} {float(value):.4g} worse than the pruner's "
                "threshold"
            )
            return True
        return False

    @keras_tuner.synchronized
    def end_trial(self, trial: Any) -> None:
        """Record how the trial ended, in KerasTuner's files and in the study (see module)."""
        kt = self.trials[trial.trial_id]
        kt.hyperparameters = trial.hyperparameters
        kt.status = trial.status
        kt.message = trial.message
        self.update_space(kt.hyperparameters)
        reason = self._pruned.pop(trial.trial_id, None)
        if kt.status == TrialStatus.COMPLETED:
            self.score_trial(kt)
            if reason is None and finite_or_none(kt.score) is None:
                reason = f"the objective {self.objective.name} is {kt.score} (NaN or infinite)"
        if reason is not None:
            kt.status, kt.message = TrialStatus.STOPPED, reason
        elif kt.status != TrialStatus.COMPLETED:
            kt.status = TrialStatus.FAILED
        self._tell(kt, reason)
        self.end_order.append(kt.trial_id)
        self._save_trial(kt)
        self.save()
        self._display.on_trial_end(kt)
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == kt.trial_id:
                self.ongoing_trials.pop(tuner_id)
        self._check_consecutive_failures()

    def _tell(self, kt: Any, reason: str | None) -> None:
        beat = self._beats.pop(kt.trial_id, None)
        if beat is not None:
            beat.stop()
        self._executions.pop(kt.trial_id, None)
        ot = self._running.pop(kt.trial_id, None)
        if ot is None:
            return
        ot.set_user_attr(BEST_STEP_ATTR, int(kt.best_step or 0))
        if kt.status == TrialStatus.COMPLETED:
            self.study.tell(ot, float(kt.score))
        elif reason is not None:
            ot.set_user_attr("pruned_reason", reason)
            self.study.tell(ot, state=TrialState.PRUNED)
        else:
            if kt.message:
                ot.set_user_attr("fail_reason", str(kt.message)[-2000:])
            self.study.tell(ot, state=TrialState.FAIL)

    def abandon_running(self) -> None:
        """Fail every trial this oracle still runs (the search stopped by an exception)."""
        for trial_id in list(self._running):
            kt = self.trials[trial_id]
            kt.status, kt.message = TrialStatus.FAILED, "the search stopped during this trial"
            self._tell(kt, None)
            self._save_trial(kt)
        self.ongoing_trials.clear()

    def get_best_trials(self, num_trials: int = 1) -> list[Any]:
        """The best trials of the whole study (other processes' and earlier runs' included)."""
        if self._study is not None or self.storage is not None:
            self._sync()
        return super().get_best_trials(num_trials)

    def remaining_trials(self) -> int | None:
        return max(0, self.max_trials - self._counted(self._sync())) if self.max_trials else None

    def get_state(self) -> dict[str, Any]:
        return {"hyperparameters": self.hyperparameters.get_config(), "seed": self.seed}

    def set_state(self, state: dict[str, Any]) -> None:
        hps = state.get("hyperparameters")
        if hps is not None:
            self.hyperparameters = keras_tuner.HyperParameters.from_config(hps)

    def reload(self) -> None:
        """Reload the search space from the project and the trials from the study."""
        super(keras_tuner.Oracle, self).reload(self._get_oracle_fname())
        self._sync()
