"""``tune``: run N more trials of a study, in one process or several, safely.

Everything is checked before anything is written: a bad option raises
:class:`~lrsearch.errors.UsageError` and no database or study is created. Then the study is
created (or continued: the same command again adds trials to the same study), and ``workers``
processes draw trials from it until exactly ``trials`` new ones have run.

Several workers: see :mod:`lrsearch.runner.workers` (they start TensorFlow while this process
waits).

Safety: finished trials are committed one by one; Ctrl-C (SIGTERM) marks the running trial
FAIL, enqueues its parameters again, and raises ``KeyboardInterrupt`` (``Terminated``; the CLI
exits 130, 143); a dead worker's trial is failed and retried by the workers left; a process
killed outright leaves its trial RUNNING until its heartbeat goes stale, when the next run
fails it and retries its parameters.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from lrsearch.runner.auto_lr import auto_initial_lr
from lrsearch.runner.auto_lr import store_tests
from lrsearch.runner.loop import retry_interrupted_failures
from lrsearch.runner.loop import run_trials
from lrsearch.runner.options import TuneOptions
from lrsearch.runner.options import TuneResult
from lrsearch.runner.options import check_options
from lrsearch.runner.prepare import prepare
from lrsearch.runner.prepare import resolve_task
from lrsearch.runner.signals import interrupt_once
from lrsearch.runner.study import check_continuation
from lrsearch.runner.study import create_study
from lrsearch.runner.study import summarize
from lrsearch.runner.workers import WorkerPool


def open_study(options: TuneOptions, auto: dict[str, Any] | None) -> Any:
    """Create or load the study; store new ``--initial-lr auto`` tests and their first trials."""
    study = create_study(options)
    retry_interrupted_failures(study)  # e.g. the trial a full disk stopped last time
    if auto is not None:
        store_tests(study, auto, limit=options.trials)
    return study


def tune(options: TuneOptions) -> TuneResult:
    """Run ``options.trials`` more trials (see the module docstring)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ctx = multiprocessing.get_context("spawn")
    claimed, done = ctx.Value("i", 0), ctx.Value("i", 0)
    with interrupt_once():
        space = check_options(options)
        options = resolve_task(options)
        options = check_continuation(options, space)
        prepared, auto, refreshed = None, None, False
        if options.workers == 1 or options.initial_lr == "auto":
            prepared = prepare(options)
            if options.initial_lr == "auto":
                prepared, auto = auto_initial_lr(prepared)
                options = prepared.options
        if options.workers == 1:
            assert prepared is not None
            study = open_study(options, auto)
            run_trials(prepared, worker=0, workers=1, claimed=claimed, done=done)
        else:  # the workers start TensorFlow and prepare while this process waits
            with WorkerPool(options, claimed, done) as pool:
                pool.wait_ready()
                study = open_study(options, auto)
                pool.run()
                refreshed = pool.views_refreshed
    if not refreshed:
        from lrsearch.dashboard import refresh_study_views

        refresh_study_views(study)  # the dashboard's study note and graphs (never raises)
    states, best = summarize(study)
    return TuneResult(options.storage, options.study_name, done.value, states, best)
