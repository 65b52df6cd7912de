"""Ctrl-C while trials run: the first one stops cleanly, later ones are ignored."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_interrupted = False  # set by the first Ctrl-C inside interrupt_once


def interrupt_requested() -> bool:
    """Whether Ctrl-C was pressed inside the current :func:`interrupt_once` block."""
    return _interrupted


@contextmanager
def interrupt_once() -> Iterator[None]:
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
