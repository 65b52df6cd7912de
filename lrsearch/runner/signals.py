"""Ctrl-C and SIGTERM while trials run: the first one stops cleanly, later ones are ignored.

SIGTERM (what ``timeout``, Slurm and Kubernetes send) is handled like Ctrl-C but raises
:class:`~lrsearch.errors.Terminated` (a ``KeyboardInterrupt``), so the CLI exits 143 instead
of 130.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lrsearch.errors import Terminated

_interrupted = False  # set by the first Ctrl-C or SIGTERM inside interrupt_once
_signum: int = signal.SIGINT  # which of the two it was
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def interrupt_requested() -> bool:
    """Whether Ctrl-C or SIGTERM came inside the current :func:`interrupt_once` block."""
    return _interrupted


def stop_signal() -> int:
    """The signal that stopped the run (``SIGINT`` or ``SIGTERM``), for passing it on."""
    return int(_signum)


def stop_exception() -> KeyboardInterrupt:
    """The exception the stop signal raises: ``Terminated`` for SIGTERM, else Ctrl-C's."""
    return Terminated() if _signum == signal.SIGTERM else KeyboardInterrupt()


@contextmanager
def interrupt_once() -> Iterator[None]:
    """First Ctrl-C or SIGTERM raises; later ones (of either) are ignored so cleanup finishes.

    Ctrl-C raises ``KeyboardInterrupt``, SIGTERM :class:`~lrsearch.errors.Terminated`.

    The first Ctrl-C also sets a flag (:func:`interrupt_requested`): an interrupt whose exception
    was swallowed where it landed (a destructor, a library callback) is raised again by the
    trial's reporter before the next batch, by the trial loop, or at the end of the block.
    """
    global _interrupted, _signum

    def handler(signum: int, frame: Any) -> None:
        global _interrupted, _signum
        _interrupted, _signum = True, signum
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        raise stop_exception()

    previous_hook = sys.unraisablehook

    def unraisable_hook(unraisable: Any) -> None:
        # the Ctrl-C landed in a destructor: no "Exception ignored ... Traceback"; the flag
        # raises it again
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)

    if _is_main_thread():
        _interrupted, _signum = False, signal.SIGINT
        previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
        sys.unraisablehook = unraisable_hook
        try:
            yield
            if _interrupted:
                raise stop_exception()
        except KeyboardInterrupt as exc:
            # raised as plain KeyboardInterrupt far from the handler (the trial's reporter)
            if _signum == signal.SIGTERM and not isinstance(exc, Terminated):
                raise Terminated() from None
            raise
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
            sys.unraisablehook = previous_hook
    else:  # pragma: no cover - called from a non-main thread
        yield


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


@contextmanager
def quiet_failed_trial_logs() -> Iterator[None]:
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


@contextmanager
def quiet_storage_threads() -> Iterator[None]:
    """No traceback from a background thread (Optuna's heartbeat) when the storage fails.

    The main thread meets the same fault at its next storage call and ends the run with one
    paragraph; any other exception in a thread is still shown.
    """
    import threading

    from lrsearch.storage_faults import is_storage_fault

    previous = threading.excepthook

    def hook(args: Any) -> None:
        if args.exc_value is not None and is_storage_fault(args.exc_value):
            return
        previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous
