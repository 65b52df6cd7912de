"""The trial loop of one process: draw, train, record, until the run's count is reached."""

from __future__ import annotations

import math
import sys
from typing import Any

from lrsearch.checks import first_line
from lrsearch.errors import UsageError
from lrsearch.pruners import make_pruner
from lrsearch.runner.prepare import Prepared
from lrsearch.runner.search import make_sampler
from lrsearch.runner.signals import interrupt_requested
from lrsearch.runner.signals import quiet_failed_trial_logs


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

    def on_done(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        with done.get_lock():
            done.value += 1
            n = done.value
        progress.trial_done(n, study, trial)

    def safe_objective(trial: optuna.trial.Trial) -> float:
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
            first = first_line(exc, 500)
            trial.set_user_attr("error", f"{type(exc).__name__}: {first}")
            print(
                f"lrsearch tune: trial {trial.number} failed: {type(exc).__name__}: {first}",
                file=sys.stderr,
            )
            return math.nan

    with quiet_failed_trial_logs(), views:
        while True:
            if interrupt_requested():
                raise KeyboardInterrupt
            with claimed.get_lock():
                if claimed.value >= o.trials:
                    return
                claimed.value += 1
            study.optimize(safe_objective, n_trials=1, callbacks=[on_done], catch=())
            if current is not None:
                current[worker] = -1
