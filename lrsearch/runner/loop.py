"""The trial loop of one process: draw, train, record, until the run's count is reached."""

from __future__ import annotations

import math
import sys
from typing import Any

from lrsearch.checks import first_line
from lrsearch.errors import StorageError
from lrsearch.errors import UsageError
from lrsearch.pruners import make_pruner
from lrsearch.runner.prepare import Prepared
from lrsearch.runner.search import make_sampler
from lrsearch.runner.signals import interrupt_requested
from lrsearch.runner.signals import quiet_failed_trial_logs
from lrsearch.runner.signals import quiet_storage_threads
from lrsearch.runner.signals import stop_exception
from lrsearch.storage import shown_url
from lrsearch.storage_faults import describe_storage_fault
from lrsearch.storage_faults import is_storage_fault


def retry_stopped_trial(study: Any, trial_id: int, error: str | None = None) -> bool:
    """Fail a trial whose process stopped (a signal, a dead worker) and enqueue its retry.

    The trial is marked FAIL if still RUNNING (``error``, if given, as its user attribute
    ``error``, which the retry does not inherit), and Optuna's retry callback
    (:func:`lrsearch.storage.retry_callback`) enqueues its parameters as a WAITING trial with
    ``failed_trial`` / ``retry_history``, as the heartbeat would for a process killed
    outright: the next trial of this run, or of the next run, trains it. Returns whether a
    retry was enqueued here (never raises).
    """
    import optuna

    from lrsearch.storage import enqueue_retry
    from lrsearch.storage import has_retry
    from lrsearch.storage_faults import study_lock

    FAIL = optuna.trial.TrialState.FAIL
    storage = study._storage
    try:
        # a run starting now (retry_interrupted_failures) must not retry it too
        with study_lock(storage, study.study_name):
            frozen = storage.get_trial(trial_id)  # its user attributes go to the retry
            if frozen.state == optuna.trial.TrialState.RUNNING:
                try:
                    if error is not None:  # a finished trial's attributes are read-only
                        storage.set_trial_user_attr(trial_id, "error", error)
                    storage.set_trial_state_values(trial_id, FAIL)
                except optuna.exceptions.UpdateFinishedTrialError:  # it finished after all
                    return False
            elif frozen.state != FAIL:
                return False
            if has_retry(study, frozen.number):
                return False
            enqueue_retry(study, frozen)
            return True
    except Exception:  # the storage is gone: the heartbeat fails and retries it later
        return False


def retry_interrupted_failures(study: Any) -> int:
    """Enqueue a retry of every FAIL trial that stopped without a reason of its own.

    A trial's own failure (an exception in training, a bad user file) is recorded with the user
    attribute ``error`` and stays failed. A FAIL trial without one was stopped from outside:
    Optuna failed it when the storage broke under it (a full disk, a server gone), and the
    storage was not there to take its retry. The next run enqueues its parameters (Optuna's
    retry callback: ``failed_trial`` / ``retry_history``), once; trials already retried (by a
    heartbeat, by Ctrl-C or SIGTERM handling) are left alone. Two runs starting together on
    one study do this one at a time (:func:`lrsearch.storage_faults.study_lock`), so a trial
    gets one retry. Returns how many were enqueued.
    """
    import optuna

    from lrsearch.storage import enqueue_retry
    from lrsearch.storage_faults import study_lock

    count = 0
    with study_lock(study._storage, study.study_name):  # two runs starting at once: one retry
        trials = study.get_trials(deepcopy=False)
        retried = {t.system_attrs.get("failed_trial") for t in trials}
        retried |= {n for t in trials for n in t.system_attrs.get("retry_history", [])}
        for t in trials:
            if (
                t.state == optuna.trial.TrialState.FAIL
                and "error" not in t.user_attrs
                and t.number not in retried
            ):
                enqueue_retry(study, t)
                count += 1
    return count


def run_trials(
    prepared: Prepared,
    *,
    worker: int,
    workers: int,
    claimed: Any,
    done: Any,
    current: Any = None,
) -> None:
    """Draw trials until ``claimed`` reaches ``options.trials`` (shared between workers).

    ``current[worker]``, when given, holds the storage id of the trial this worker runs (-1
    between trials), for :meth:`lrsearch.runner.workers.WorkerPool.fail_abandoned`.
    """
    import optuna

    from lrsearch.dashboard import TrialViews
    from lrsearch.dashboard import artifact_dir_for
    from lrsearch.objective import Objective
    from lrsearch.runner.progress import TrialProgress
    from lrsearch.storage import open_storage
    from lrsearch.training import Trainer

    o = prepared.options
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(o.storage, create=False)
    existing = len(storage.get_all_trials(storage.get_study_id_from_name(o.study_name)))
    study = optuna.load_study(
        study_name=o.study_name,
        storage=storage,
        sampler=make_sampler(o.seed, existing + 7919 * worker),
        pruner=make_pruner(o.pruner, o.epochs, schedule_aware=o.schedule_aware_pruning),
    )
    from lrsearch.study import DATA_ATTR
    from lrsearch.study import data_info

    if DATA_ATTR not in study.user_attrs:  # the task and the target's scale, for `best`
        study.set_user_attr(DATA_ATTR, data_info(prepared.data))
    trainer = Trainer(prepared.data, o.model, batch_size=o.batch_size)
    # the dashboard's trial note and picture (drawn on a thread while the next trial trains)
    views = TrialViews(artifact_dir_for(o.storage, o.artifact_dir))
    progress = TrialProgress(o.trials, enabled=o.progress, epochs=o.epochs, position=worker)
    objective = Objective(
        prepared.space,
        trainer,
        epochs=o.epochs,
        seed=o.seed,
        on_trial_end=views,
        should_stop=interrupt_requested,
        on_spec=progress.trial_started,
        callbacks=[progress.epoch_callback()],
    )

    running = [-1]  # the storage id of this process's trial, until it is recorded

    def on_done(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        running[0] = -1
        if current is not None:
            current[worker] = -1
        with done.get_lock():
            done.value += 1
            n = done.value
        progress.trial_done(n, study, trial)

    def safe_objective(trial: optuna.trial.Trial) -> float:
        running[0] = trial._trial_id
        if current is not None:
            current[worker] = trial._trial_id
        try:
            return objective(trial)
        except (optuna.TrialPruned, KeyboardInterrupt):
            raise
        except UsageError as exc:
            trial.set_user_attr("error", str(exc))
            print(f"lrsearch tune: trial {trial.number} failed: {exc}", file=sys.stderr)
            return math.nan
        except Exception as exc:  # a failing trial is recorded; the study goes on
            if interrupt_requested():  # the interrupt, caught and re-raised as another error
                raise stop_exception() from None
            if is_storage_fault(exc):  # not the trial's fault: the run ends
                raise
            first = first_line(exc, 500)
            trial.set_user_attr("error", f"{type(exc).__name__}: {first}")
            print(
                f"lrsearch tune: trial {trial.number} failed: {type(exc).__name__}: {first}",
                file=sys.stderr,
            )
            return math.nan

    with quiet_failed_trial_logs(), quiet_storage_threads(), views:
        try:
            _loop(study, safe_objective, on_done, o.trials, claimed, o.storage)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: Optuna failed the trial, or its error
            if running[0] >= 0:  # was the interrupt in disguise: enqueue it again
                retry_stopped_trial(study, running[0])
            raise
        finally:
            if current is not None:
                current[worker] = -1


def _loop(study: Any, objective: Any, on_done: Any, trials: int, claimed: Any, url: str) -> None:
    """One trial at a time until ``claimed`` reaches ``trials``; a storage fault ends the run."""
    while True:
        if interrupt_requested():
            raise stop_exception()
        with claimed.get_lock():
            if claimed.value >= trials:
                return
            claimed.value += 1
        try:
            study.optimize(objective, n_trials=1, callbacks=[on_done], catch=())
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            text = describe_storage_fault(exc, shown_url(url))
            if text is None:
                raise
            raise StorageError(text) from None
