"""Errors that mean "the user asked for something that cannot work"."""

from __future__ import annotations


class UsageError(ValueError):
    """A user's mistake: the CLI prints the message (one paragraph), exits 2, writes nothing.

    The message names the problem and the fix, e.g. ``"Unknown dataset 'digts'. Use one of
    digits, breast_cancer, wine, iris, mnist, fashion_mnist, or a path to a .npz or .csv
    file."``
    """


class WorkerError(RuntimeError):
    """A worker process of ``tune --workers`` ended abnormally (killed, out of memory).

    The CLI prints the message and exits 1; the trials it was running are marked FAIL.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, Slurm, Kubernetes): handled like Ctrl-C, the CLI exits 143.

    A ``KeyboardInterrupt`` so that every ``except KeyboardInterrupt`` that cleans up after
    Ctrl-C (the running trial ends FAIL, the workers are told) does the same for SIGTERM.
    """


class StorageError(RuntimeError):
    """The study's storage failed while a command ran and stayed down (server gone, disk full).

    Not the user's input: the CLI prints the message (one paragraph, naming the cause) and
    exits 1. Finished trials are kept; the running ones are failed and retried by the next run.
    """
