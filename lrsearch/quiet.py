"""Import TensorFlow without its start-up chatter on stderr (CUDA probing on CPU machines)."""

from __future__ import annotations

import os
import sys
import tempfile
import warnings


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
