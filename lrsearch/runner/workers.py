"""The worker processes of ``lrsearch tune --workers W``: start-up, hand-shake, join, clean-up.

Start-up overlaps the slow part: the workers are spawned first, and each imports TensorFlow
(seconds), loads the data and builds the model while the parent, which needs no TensorFlow for
them, waits. Each worker then reports *ready*, or the usage error it found (a model that does
not fit the data), and waits. Only when every worker is ready does the parent create the study
and let them go; on an error it stops them and raises it, so nothing is written::

    parent:  check options ─ spawn ─────────── wait ready ─ create study ─ go ─ join
    worker:                 import TF, prepare ─ ready ──────────────────── trials ─ exit

Threads: each worker gets ``cores // W`` threads for TensorFlow and BLAS, set in its
environment before TensorFlow starts (TensorFlow sizes its thread pools once, when its runtime
starts, and ignores ``tf.config.threading`` afterwards).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.checks import first_line
from lrsearch.errors import StorageError
from lrsearch.errors import Terminated
from lrsearch.errors import UsageError
from lrsearch.errors import WorkerError

if TYPE_CHECKING:
    from lrsearch.runner.options import TuneOptions

#: read by TensorFlow when its runtime starts, and by NumPy's BLAS (the TPE sampler's linear
#: algebra); a value set in the environment by the user wins
THREAD_VARIABLES = (
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
)


def cores_per_worker(workers: int) -> int:
    """Each of ``workers`` processes' share of this machine's cores: ``max(1, cores // W)``."""
    return max(1, (os.cpu_count() or 1) // workers)


@contextmanager
def thread_environment(workers: int) -> Iterator[None]:
    """Set :data:`THREAD_VARIABLES` (where unset) while worker processes are spawned."""
    added = [name for name in THREAD_VARIABLES if name not in os.environ]
    for name in added:
        os.environ[name] = str(cores_per_worker(workers))
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def share_cores(workers: int) -> None:
    """Give this worker process its share of the cores, then start TensorFlow.

    Must run before TensorFlow starts its runtime. Without it each of two workers on two cores
    would run two intra-op threads plus two inter-op threads, all spinning against each other.
    """
    threads = str(cores_per_worker(workers))
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, threads)
    from lrsearch.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()


def _worker_main(
    options: TuneOptions,
    worker: int,
    workers: int,
    shared: dict[str, Any],
) -> None:
    """Entry point of a worker process (spawned): prepare, report, wait for go, run trials."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from lrsearch.quiet import quiet_warnings

    quiet_warnings()
    from lrsearch.quiet import ignore_signal_races
    from lrsearch.runner.loop import run_trials
    from lrsearch.runner.prepare import prepare
    from lrsearch.runner.signals import interrupt_once

    messages = shared["messages"]
    ignore_signal_races()
    _die_with_parent()
    try:
        with interrupt_once():
            share_cores(workers)
            try:
                prepared = prepare(options)
            except UsageError as exc:
                messages.put(("error", worker, str(exc)))
                sys.exit(2)
            except Exception as exc:  # not the user's mistake: reported once, by the parent
                first = first_line(exc)
                messages.put(("crash", worker, f"{type(exc).__name__}: {first}"))
                sys.exit(1)
            messages.put(("ready", worker, ""))
            _wait_for_go(shared["go"])
            if shared["abort"].value:
                return
            run_trials(
                prepared,
                worker=worker,
                workers=workers,
                claimed=shared["claimed"],
                done=shared["done"],
                current=shared["current"],
            )
            with shared["finished"].get_lock():
                shared["finished"].value += 1
                last = shared["finished"].value == workers
            if last:  # it has everything imported; the parent would import the dashboard
                _refresh_views(options)
                shared["refreshed"].value = 1
    except KeyboardInterrupt as exc:  # its trial is FAIL and enqueued again: end now, quietly
        _exit(143 if isinstance(exc, Terminated) else 130)
    except UsageError as exc:  # found while running trials
        print(f"lrsearch tune: worker {worker}: {exc}", file=sys.stderr)
        sys.exit(2)
    except StorageError as exc:  # the parent prints it once
        messages.put(("storage", worker, str(exc)))
        _exit(1)
    # Every trial is committed. Skip the interpreter's teardown of TensorFlow (about a second
    # that the parent would wait for).
    _exit(0)


def _exit(code: int) -> None:
    """End the worker now: no interpreter teardown, no multiprocessing finalizers.

    After Ctrl-C those finalizers (the queue's feeder thread, TensorFlow's) could be
    interrupted themselves and print a traceback.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a closed pipe: nothing more to say
            pass
    os._exit(code)


def _die_with_parent() -> None:
    """SIGTERM to this worker as soon as its parent dies, by any signal (``kill -9`` too).

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGTERM)``; elsewhere (and as a check) a thread that
    watches the parent's pid every second. The worker then handles SIGTERM as ``tune`` does:
    its trial ends FAIL and is enqueued again, and it never runs the remaining budget alone.
    """
    import threading
    import time

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl: the thread below does it
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="lrsearch-parent-watch", daemon=True).start()


def _wait_for_go(go: Any) -> None:
    """Wait for the parent's go; end quietly if the parent is gone (killed before it said go)."""
    parent = multiprocessing.parent_process()
    while not go.wait(1.0):
        if parent is not None and not parent.is_alive():
            os._exit(1)


def _refresh_views(options: TuneOptions) -> None:
    """The dashboard's study note and graphs, once every worker is done (never raises)."""
    import optuna

    from lrsearch.dashboard import refresh_study_views
    from lrsearch.storage import open_storage

    try:
        storage = open_storage(options.storage, create=False)
        refresh_study_views(optuna.load_study(study_name=options.study_name, storage=storage))
    except Exception:  # the parent refreshes them instead
        return


class WorkerPool:
    """``options.workers`` spawned processes drawing trials from one study.

    Use as a context manager: leaving the block before :meth:`run` (an error, Ctrl-C) stops the
    workers, which have written nothing yet.
    """

    def __init__(self, options: TuneOptions, claimed: Any, done: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.options = options
        self._go = ctx.Event()
        self._abort = ctx.Value("b", 0)
        self._messages: Any = ctx.Queue()
        self._current = ctx.Array("q", [-1] * options.workers)  # each worker's trial id
        self._claimed = claimed
        self._refreshed = ctx.Value("b", 0)
        # every shared object stays referenced here: ``Process.start`` drops its arguments,
        # and a collected one's semaphore is gone before a spawned child unpickles it
        self._shared = shared = {
            "finished": ctx.Value("i", 0),
            "refreshed": self._refreshed,
            "messages": self._messages,
            "go": self._go,
            "abort": self._abort,
            "claimed": claimed,
            "done": done,
            "current": self._current,
        }
        self._procs = [
            ctx.Process(
                target=_worker_main,
                args=(options, i, options.workers, shared),
                name=f"lrsearch-worker-{i}",
            )
            for i in range(options.workers)
        ]
        self._running = False

    def __enter__(self) -> WorkerPool:
        try:
            with thread_environment(self.options.workers):  # their share of the cores
                for p in self._procs:
                    p.start()
        except BaseException:  # cannot start them all (Ctrl-C, no memory): stop the others
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._running:
            self._stop()

    @property
    def views_refreshed(self) -> bool:
        """Whether the last worker to finish refreshed the dashboard's study views."""
        return bool(self._refreshed.value)

    def wait_ready(self) -> None:
        """Wait until every worker has prepared; raise the first usage error one reports."""
        ready: set[int] = set()
        while len(ready) < len(self._procs):
            try:
                kind, worker, text = self._messages.get(timeout=0.5)
            except queue.Empty:
                if any(p.exitcode is not None for p in self._procs):
                    try:  # its last message may still be on the way
                        kind, worker, text = self._messages.get(timeout=2)
                    except queue.Empty:
                        codes = [p.exitcode for p in self._procs if p.exitcode is not None]
                        raise WorkerError(
                            f"A worker process ended while starting (exit status {codes}); "
                            "nothing was written. Run the command with --workers 1 to see "
                            "the error."
                        ) from None
                else:
                    continue
            if kind == "error":
                raise UsageError(text)
            if kind == "crash":
                raise WorkerError(
                    f"Worker {worker} failed while starting ({text}); nothing was written. "
                    "Run the command with --workers 1 to see the whole error."
                )
            ready.add(worker)

    def run(self) -> None:
        """Let the workers go and wait for them.

        A worker that dies mid-trial (killed, out of memory) has its trial failed and enqueued
        again at once (:func:`lrsearch.runner.loop.retry_stopped_trial`), and its slot given
        back, so a worker still running trains the retry as its next trial. Ctrl-C or SIGTERM
        here is passed on to the workers, which fail, enqueue and record their trials.
        """
        from multiprocessing.connection import wait

        self._running = True
        self._go.set()
        pending = dict(enumerate(self._procs))
        try:
            while pending:
                ended = wait([p.sentinel for p in pending.values()], timeout=1.0)
                for i, p in list(pending.items()):
                    if p.sentinel in ended:
                        p.join()
                        del pending[i]
                        if p.exitcode not in (0, 130, 143):
                            self._retry_abandoned(i)
        except KeyboardInterrupt as exc:
            self._interrupt(signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT)
            self.fail_abandoned()
            raise
        self.fail_abandoned()
        self._raise_storage_error()
        bad = [p.exitcode for p in self._procs if p.exitcode not in (0, None)]
        if bad and all(code in (130, 143) for code in bad):  # Ctrl-C or SIGTERM to the workers
            raise Terminated() if 143 in bad else KeyboardInterrupt()
        if bad:
            raise WorkerError(
                f"{len(bad)} worker process(es) ended abnormally (exit status {bad}); each "
                "trial they were running was marked FAIL and enqueued again with the same "
                "parameters (trained by another worker of this run, or else by the next run), "
                "and every finished trial is kept. Run the same command again to continue the "
                "study; if a worker was killed for memory, use fewer --workers."
            )

    def _raise_storage_error(self) -> None:
        """Raise the first storage fault a worker reported (the others saw the same)."""
        while True:
            try:
                kind, _, text = self._messages.get(timeout=0.1)
            except (queue.Empty, OSError, ValueError):
                return
            if kind == "storage":
                raise StorageError(text)

    def _stop(self) -> None:
        """Stop workers that have not been let go: they have written nothing, end them now."""
        self._abort.value = 1  # before go: a worker that sees go sees abort too
        self._go.set()
        started = [p for p in self._procs if p.pid is not None]
        for p in started:
            if p.is_alive():
                p.terminate()  # most are still importing TensorFlow: no need to wait for it
        for p in started:
            p.join(timeout=10)

    def _interrupt(self, signum: int) -> None:
        """Pass Ctrl-C or SIGTERM on to the workers and give them time to record their trials."""
        for p in self._procs:
            if p.is_alive() and p.pid is not None:
                try:
                    os.kill(p.pid, signum)
                except ProcessLookupError:
                    pass
        for p in self._procs:
            p.join(timeout=60)
            if p.is_alive():
                p.terminate()
                p.join(timeout=10)

    def fail_abandoned(self) -> None:
        """Fail and enqueue again the trials that exited workers left RUNNING.

        A worker killed (out of memory, ``terminate``), crashed, or interrupted at an unlucky
        moment cannot record the end of its trial; its heartbeat would fail it only later.
        """
        for i, p in enumerate(self._procs):
            if not p.is_alive():
                self._retry_abandoned(i, give_back=False)

    def _retry_abandoned(self, worker: int, *, give_back: bool = True) -> None:
        """Fail worker ``worker``'s trial, enqueue it again, and (``give_back``) its slot."""
        trial_id = self._current[worker]
        if trial_id < 0:
            return
        self._current[worker] = -1
        import optuna

        from lrsearch.runner.loop import retry_stopped_trial
        from lrsearch.storage import open_storage

        try:
            storage = open_storage(self.options.storage, create=False)
            study = optuna.load_study(study_name=self.options.study_name, storage=storage)
        except Exception:  # the storage is down: the heartbeat retries it on the next run
            return
        error = "its worker process ended during the trial"
        if retry_stopped_trial(study, trial_id, error) and give_back:
            with self._claimed.get_lock():
                self._claimed.value -= 1  # the retry takes the dead trial's place in this run
