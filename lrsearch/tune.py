"""``tune``: run N more trials of a study, in one process or several, safely.

Everything is checked before anything is written: a bad option raises
:class:`~lrsearch.errors.UsageError` and no database or study is created. Then the study is
created (or continued: the same command again adds trials to the same study), and ``workers``
processes draw trials from it until exactly ``trials`` new ones have run.

Several workers: see :mod:`lrsearch.workers` (they start TensorFlow while this process waits).

Safety: finished trials are committed one by one; Ctrl-C marks the running trial FAIL and
raises ``KeyboardInterrupt`` (the CLI exits 130); a process killed outright leaves its trial
RUNNING until its heartbeat goes stale, when the next run fails it and retries its parameters.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lrsearch.autolr import band_of
from lrsearch.autolr import range_tests
from lrsearch.autolr import store_tests
from lrsearch.errors import UsageError
from lrsearch.storage import default_storage
from lrsearch.storage import default_study_name
from lrsearch.storage import normalize_url
from lrsearch.storage import shown_url

PRUNERS = ("median", "hyperband", "none")
CONFIG_ATTR = "lrsearch_config"


@dataclasses.dataclass
class TuneOptions:
    """Everything ``lrsearch tune`` takes (see ``lrsearch tune --help``)."""

    trials: int = 20
    epochs: int = 20
    dataset: str = "digits"
    model: str = "mlp"
    task: str = "auto"
    families: tuple[str, ...] | None = None
    optimizers: tuple[str, ...] = ("sgd",)
    #: None: each optimizer's default range; (low, high): every optimizer; {optimizer: (low,
    #: high)}: those optimizers (the others keep their defaults); "auto": the range test's bands
    initial_lr: tuple[float, float] | str | dict[str, Any] | None = None
    batch_size: int = 64
    storage: str = dataclasses.field(default_factory=default_storage)
    study_name: str = dataclasses.field(default_factory=default_study_name)
    pruner: str = "median"
    seed: int = 0
    workers: int = 1
    val_fraction: float = 0.2
    subsample: int | None = None
    ranges: dict[str, Any] = dataclasses.field(default_factory=dict)
    schedule_aware_pruning: bool = True
    progress: bool | None = None
    config_source: dict[str, Any] | None = None

    def identity(self) -> dict[str, Any]:
        """What defines the study's experiment (stored in the study, compared on resume).

        ``task`` is the decided one (see :func:`resolve_task`), never ``auto``.
        """
        return {
            "dataset": self.dataset,
            "model": self.model,
            "task": self.task,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "val_fraction": self.val_fraction,
            "subsample": self.subsample,
        }


@dataclasses.dataclass
class TuneResult:
    """What a ``tune`` run did."""

    storage: str
    study_name: str
    trials_run: int
    states: dict[str, int]
    best: dict[str, Any] | None


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(
            f"--{name} must be a whole number >= 1 (received {value!r}). Pass e.g. --{name} 10."
        )


def check_options(o: TuneOptions) -> Any:
    """Validate every option that needs no data; return the :class:`SearchSpace`.

    Raises:
        UsageError: the first problem found, in one paragraph with its fix.
    """
    from lrsearch.space import SearchSpace

    _positive_int("trials", o.trials)
    _positive_int("epochs", o.epochs)
    _positive_int("batch-size", o.batch_size)
    _positive_int("workers", o.workers)
    from lrsearch.data import MAX_SEED

    if isinstance(o.seed, bool) or not isinstance(o.seed, int) or not 0 <= o.seed <= MAX_SEED:
        raise UsageError(
            f"--seed must be a whole number from 0 to {MAX_SEED} (received {o.seed!r})."
        )
    if o.pruner not in PRUNERS:
        raise UsageError(
            f"Unknown pruner {o.pruner!r}. Use one of {', '.join(PRUNERS)} (--pruner median "
            "stops trials whose val_loss is worse than the median of earlier trials at the same "
            "epoch)."
        )
    if isinstance(o.initial_lr, str):
        if o.initial_lr != "auto":
            raise UsageError(
                f"--initial-lr must be LOW,HIGH (two positive numbers, low < high), "
                f"OPTIMIZER=LOW,HIGH or 'auto'; received {o.initial_lr!r}."
            )
        lr_range: Any = None  # checked with the defaults; the range test sets the bands
    else:
        lr_range = o.initial_lr
    try:
        space = SearchSpace(
            families=o.families,
            initial_lr=lr_range,
            optimizers=o.optimizers,
            epochs=o.epochs,
            **o.ranges,
        )
    except ValueError as exc:
        msg = str(exc)
        if msg.startswith("Argument `initial_lr") and "not searched" in msg:
            named = list(lr_range) if isinstance(lr_range, dict) else []
            wanted = ",".join(dict.fromkeys([*o.optimizers, *named]))
            msg = (
                msg.split(" Add ")[0] + f" Add it to --optimizers (e.g. --optimizers {wanted}), "
                "or drop its --initial-lr OPTIMIZER=LOW,HIGH."
            )
        elif msg.startswith("Argument `initial_lr"):
            msg += (
                " Pass --initial-lr as LOW,HIGH (every optimizer) or OPTIMIZER=LOW,HIGH (repeat "
                "it per optimizer), e.g. --initial-lr adam=1e-5,1e-2 --initial-lr sgd=1e-3,1."
            )
        elif "family" in msg:
            msg += " Pass --families as a comma-separated list of those names."
        elif "optimizer" in msg:
            msg += " Pass --optimizers as a comma-separated list of those names."
        raise UsageError(msg) from None
    normalize_url(o.storage)
    if not isinstance(o.study_name, str) or not o.study_name.strip():
        raise UsageError("--study-name must not be empty. Pass e.g. --study-name digits-mlp.")
    # Cheap name/path checks now, so a typo fails before TensorFlow loads (a FILE.py:FUNC
    # model is checked when built: importing the file loads Keras).
    from lrsearch.data import check_dataset
    from lrsearch.models import check_model

    check_dataset(o.dataset)
    from lrsearch.data import check_task_for

    check_task_for(o.dataset, o.task)
    if not (isinstance(o.model, str) and ".py:" in o.model.lower()):
        check_model(o.model)
    return space


@dataclasses.dataclass
class Prepared:
    """Checked options with the data loaded: what a process needs to run trials."""

    options: TuneOptions
    space: Any
    data: Any


def prepare(o: TuneOptions) -> Prepared:
    """Check the options, load the data and build the model once (to check it) -- no writes."""
    space = check_options(o)
    from lrsearch._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    from lrsearch.data import load_dataset
    from lrsearch.models import check_fits

    data = load_dataset(
        o.dataset, val_fraction=o.val_fraction, seed=o.seed, subsample=o.subsample, task=o.task
    )
    check_fits(o.model, data, o.seed)
    return Prepared(o, space, data)


def make_pruner(name: str, epochs: int) -> Any:
    """``median`` (after 5 trials, from the 2nd epoch), ``hyperband`` or ``none``."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs)
    return optuna.pruners.NopPruner()


def make_sampler(seed: int, offset: int) -> Any:
    """Seeded TPE (``family`` stays categorical); ``offset`` varies the seed per run/worker."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed + offset,
            multivariate=True,
            group=True,
            constant_liar=True,  # harmless alone, needed for concurrent workers
        )


def resolve_task(o: TuneOptions) -> TuneOptions:
    """``o`` with ``task`` decided (never ``auto``); says what ``auto`` decided on stderr.

    Named datasets have their own task; a file's target is read (no TensorFlow) and
    :func:`lrsearch.tasks.detect_task` decides. The decision is one line with the flag that
    overrides it.
    """
    from lrsearch.data import check_task_for
    from lrsearch.data import load_dataset

    task = check_task_for(o.dataset, o.task)
    if task != "auto":
        if o.task == "auto":
            print(
                f"lrsearch tune: task: {task} ({o.dataset!r} is a {task} dataset).",
                file=sys.stderr,
            )
        return dataclasses.replace(o, task=task)
    data = load_dataset(o.dataset, val_fraction=o.val_fraction, seed=o.seed, subsample=o.subsample)
    other = "regression" if data.task == "classification" else "classification"
    print(
        f"lrsearch tune: task: {data.task} ({data.task_reason}); pass --task {other} to "
        "override.",
        file=sys.stderr,
    )
    return dataclasses.replace(o, task=data.task)


def check_continuation(o: TuneOptions, space: Any) -> TuneOptions:
    """Refuse to continue a study with another experiment or another categorical space.

    Raises :class:`UsageError` (before anything is written) naming every setting of
    :meth:`TuneOptions.identity` that differs from the one stored in the study (stored vs
    given), and every categorical parameter (``family``, ``optimizer``, ``mode``) whose choices
    differ from those the study's trials were drawn from (Optuna cannot change those within a
    study: every new trial would fail). The same families or optimizers in another order are
    not a difference: the returned options list them in the study's order.
    """
    from lrsearch.study_identity import identity_differences
    from lrsearch.study_identity import same_choices_in_study_order
    from lrsearch.study_identity import space_differences

    study = _existing_study(o)
    if study is None:
        return o
    reordered: dict[str, Any] = dict(same_choices_in_study_order(study, space))
    if reordered:
        o = dataclasses.replace(o, **reordered)
        space = check_options(o)
    stored = study.user_attrs.get(CONFIG_ATTR)
    differences = identity_differences(stored, o.identity())
    differences += space_differences(study, space)
    if differences:
        raise UsageError(
            f"Study {o.study_name!r} in {shown_url(o.storage)} was run with other settings: "
            + "; ".join(differences)
            + ". A study keeps one experiment, so its trials stay comparable. Pass the stored "
            "settings to continue it, or start a new study with another --study-name (e.g. "
            f"--study-name {o.study_name}-2)."
        )
    return o


def _create_study(o: TuneOptions) -> Any:
    import optuna

    from lrsearch.storage import open_storage

    storage = open_storage(o.storage, create=True)
    study = optuna.create_study(
        storage=storage,
        study_name=o.study_name,
        direction="minimize",
        load_if_exists=True,
    )
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        study.set_metric_names(["val_loss"])
        study.set_user_attr(CONFIG_ATTR, o.identity())
        if o.config_source is not None:
            study.set_user_attr("config_file", o.config_source)
    return study


_interrupted = False  # set by the first Ctrl-C inside _interrupt_once


def interrupt_requested() -> bool:
    """Whether Ctrl-C was pressed inside the current :func:`_interrupt_once` block."""
    return _interrupted


@contextmanager
def _interrupt_once() -> Iterator[None]:
    """First Ctrl-C raises ``KeyboardInterrupt``; later ones are ignored so cleanup finishes.

    The first Ctrl-C also sets a flag (:func:`interrupt_requested`): an interrupt whose exception
    was swallowed where it landed (a destructor, a library callback) is raised again by the
    trial's reporter before the next batch, by the trial loop, or at the end of the block.
    """
    global _interrupted

    def handler(signum: int, frame: Any) -> None:
        global _interrupted
        _interrupted = True
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous_hook = sys.unraisablehook

    def unraisable_hook(unraisable: Any) -> None:
        # the Ctrl-C landed in a destructor: no "Exception ignored ... Traceback"; the flag
        # raises it again
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    if _is_main_thread():
        _interrupted = False
        previous = signal.signal(signal.SIGINT, handler)
        sys.unraisablehook = unraisable_hook
        try:
            yield
            if _interrupted:
                raise KeyboardInterrupt
        finally:
            signal.signal(signal.SIGINT, previous)
            sys.unraisablehook = previous_hook
    else:  # pragma: no cover - called from a non-main thread
        yield


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@contextmanager
def _quiet_failed_trial_logs() -> Iterator[None]:
    """Hide Optuna's own "Trial N failed ..." warnings while lrsearch runs trials.

    ``safe_objective`` reports every failing trial itself in one line; the only failure Optuna
    would log on top is Ctrl-C, as a ``KeyboardInterrupt`` with a full traceback, which an
    interrupt asked for by the user must not print.
    """
    import logging

    logger = logging.getLogger("optuna.study._optimize")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _run_trials(
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
    between trials), for :func:`_fail_abandoned`.
    """
    import optuna

    from lrsearch.objective import Objective
    from lrsearch.progress import TrialProgress
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
        pruner=make_pruner(o.pruner, o.epochs),
    )
    from lrsearch.study import DATA_ATTR
    from lrsearch.study import data_info

    if DATA_ATTR not in study.user_attrs:  # the task and the target's scale, for `best`
        study.set_user_attr(DATA_ATTR, data_info(prepared.data))
    trainer = Trainer(prepared.data, o.model, batch_size=o.batch_size)
    objective = Objective(
        prepared.space,
        trainer,
        epochs=o.epochs,
        seed=o.seed,
        schedule_aware_pruning=o.schedule_aware_pruning,
        should_stop=interrupt_requested,
    )
    progress = TrialProgress(o.trials, enabled=o.progress)

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
            first = (str(exc).splitlines() or [""])[0][:500]
            trial.set_user_attr("error", f"{type(exc).__name__}: {first}")
            print(
                f"lrsearch tune: trial {trial.number} failed: {type(exc).__name__}: {first}",
                file=sys.stderr,
            )
            return math.nan

    with _quiet_failed_trial_logs():
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


def summarize(study: Any) -> tuple[dict[str, int], dict[str, Any] | None]:
    """Counts of trials per state, and the best trial as a dict (or ``None``)."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    try:
        b = study.best_trial
    except ValueError:
        return counts, None
    return counts, {
        "trial": b.number,
        "value": b.value,
        "family": b.user_attrs.get("family"),
        "params": b.user_attrs.get("spec", {}).get("params", {}),
    }


def _existing_study(o: TuneOptions) -> Any | None:
    """The study of ``o`` if its database and study exist, without creating anything."""
    import optuna

    from lrsearch.storage import open_storage
    from lrsearch.storage import study_names

    try:
        storage = open_storage(o.storage, create=False)
    except UsageError:
        return None
    if o.study_name not in study_names(storage):
        return None
    return optuna.load_study(study_name=o.study_name, storage=storage)


def _auto_initial_lr(prepared: Prepared) -> tuple[Prepared, dict[str, Any]]:
    """Replace ``initial_lr="auto"`` by each optimizer's band from a (stored or new) test."""
    from lrsearch.space import SearchSpace

    o = prepared.options
    tests = range_tests(prepared, _existing_study(o))
    bands = {name: band_of(info) for name, info in tests.items()}
    options = dataclasses.replace(o, initial_lr=bands)
    try:
        space = SearchSpace(
            families=o.families,
            initial_lr=bands,
            optimizers=o.optimizers,
            epochs=o.epochs,
            **o.ranges,
        )
    except ValueError as exc:
        shown = ", ".join(f"{n} [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in bands.items())
        raise UsageError(f"--initial-lr auto found the bands {shown}, but {exc}") from None
    return Prepared(options, space, prepared.data), tests


def _open_study(options: TuneOptions, auto: dict[str, Any] | None) -> Any:
    """Create or load the study; store new ``--initial-lr auto`` tests and their first trials."""
    study = _create_study(options)
    if auto is not None:
        store_tests(study, auto)
    return study


def tune(options: TuneOptions) -> TuneResult:
    """Run ``options.trials`` more trials (see the module docstring)."""
    import optuna

    from lrsearch.workers import WorkerPool

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ctx = multiprocessing.get_context("spawn")
    claimed, done = ctx.Value("i", 0), ctx.Value("i", 0)
    with _interrupt_once():
        space = check_options(options)
        options = resolve_task(options)
        options = check_continuation(options, space)
        prepared, auto, refreshed = None, None, False
        if options.workers == 1 or options.initial_lr == "auto":
            prepared = prepare(options)
            if options.initial_lr == "auto":
                prepared, auto = _auto_initial_lr(prepared)
                options = prepared.options
        if options.workers == 1:
            assert prepared is not None
            study = _open_study(options, auto)
            _run_trials(prepared, worker=0, workers=1, claimed=claimed, done=done)
        else:  # the workers start TensorFlow and prepare while this process waits
            with WorkerPool(options, claimed, done) as pool:
                pool.wait_ready()
                study = _open_study(options, auto)
                pool.run()
                refreshed = pool.views_refreshed
    if not refreshed:
        from lrsearch.dashboard import refresh_study_views

        refresh_study_views(study)  # the dashboard's study note and graphs (never raises)
    states, best = summarize(study)
    return TuneResult(options.storage, options.study_name, done.value, states, best)
