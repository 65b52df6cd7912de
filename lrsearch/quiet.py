"""Import TensorFlow without its start-up chatter on stderr (CUDA probing on CPU machines)."""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from typing import Any


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and start its runtime with file descriptor 2 pointed at a temp file.

    TensorFlow's C++ start-up logs ("Could not find cuda drivers...") ignore
    ``TF_CPP_MIN_LOG_LEVEL`` because they are written before logging is configured. What was
    written is replayed on stderr if the import fails, so no real error is hidden (not on
    Ctrl-C, which is no error of TensorFlow's).
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow as tf

            tf.constant(0.0)
        except Exception:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def quiet_warnings() -> None:
    """Hide library warnings that say nothing to a user of the CLI (experimental APIs)."""
    warnings.filterwarnings("ignore", message=".*experimental.*")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def _drop_signal_races(previous: Any) -> Any:
    def hook(unraisable: Any) -> None:
        exc = unraisable.exc_value
        if isinstance(exc, OSError) and "ignored due to race condition" in str(exc):
            return  # a stop signal met a handler being swapped: the stop is handled anyway
        previous(unraisable)

    return hook


def ignore_signal_races() -> None:
    """For a process about to stop: Python's "Signal 15 ignored due to race condition" (a
    SIGTERM or Ctrl-C that arrived while a handler was being put back) is not printed; the
    stop it carried is already being handled. Installed by the console script and workers."""
    sys.unraisablehook = _drop_signal_races(sys.unraisablehook)
