"""Loading a dataset by name or path: the arguments checked, the source chosen."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np

from lrsearch.checks import did_you_mean
from lrsearch.data.dataset import Dataset
from lrsearch.data.files import FILE_SUFFIXES
from lrsearch.data.files import load_csv
from lrsearch.data.files import load_npz
from lrsearch.data.named import REGISTRY
from lrsearch.errors import UsageError
from lrsearch.tasks import check_task

DATASETS: tuple[str, ...] = tuple(REGISTRY)
"""Names of the datasets that need no file."""

DATASET_TASKS: dict[str, str] = {name: entry.task for name, entry in REGISTRY.items()}
"""Name -> its task."""

BUNDLED: tuple[str, ...] = tuple(name for name, entry in REGISTRY.items() if entry.bundled)
"""The datasets scikit-learn ships (no network)."""

MAX_SEED = 2**31 - 1
"""Largest seed accepted: derived seeds (seed + trial number) stay inside NumPy's range."""

_CHOICES = f"Use one of {', '.join(DATASETS)}, or a path to a .npz or .csv file."


def normalised_name(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def looks_like_path(name: str) -> bool:
    return (
        os.sep in name
        or (os.altsep is not None and os.altsep in name)
        or pathlib.Path(name).suffix != ""
    )


def resolve(name: Any) -> str | pathlib.Path:
    """The canonical dataset name, or the path of an existing ``.npz``/``.csv`` file."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"The dataset must be a name or a file path, got {name!r}. {_CHOICES}")
    key = normalised_name(name)
    if key in DATASETS:
        return key
    if not looks_like_path(name):
        hint = did_you_mean(key, DATASETS)
        raise UsageError(f"Unknown dataset '{name}'.{hint} {_CHOICES}")
    path = pathlib.Path(name).expanduser()
    if path.suffix.lower() not in FILE_SUFFIXES:
        raise UsageError(
            f"Dataset file '{name}' has an unsupported type '{path.suffix}': only .npz (keys x, y "
            "or x_train, y_train, x_val, y_val) and .csv (header row, label in the last column) "
            "files are read. Convert it to one of those."
        )
    if not path.exists():
        raise UsageError(
            f"Dataset file '{name}' does not exist. Check the path (it is relative to the "
            f"working directory {os.getcwd()}), or use a bundled dataset: digits, "
            "breast_cancer, wine or iris."
        )
    if not path.is_file():
        raise UsageError(f"Dataset path '{name}' is not a file. Give the path of a .npz or .csv.")
    return path


def check_dataset(name: str) -> None:
    """Validate a dataset name or path cheaply, without loading any data.

    Accepts the names in :data:`DATASETS` (case-insensitive, ``-`` for ``_``) and paths of
    existing ``.npz``/``.csv`` files. Raises :class:`~lrsearch.errors.UsageError` otherwise.
    """
    resolve(name)


def check_val_fraction(val_fraction: Any) -> float:
    ok = (
        isinstance(val_fraction, (int, float, np.floating))
        and not isinstance(val_fraction, bool)
        and 0.0 < float(val_fraction) < 1.0
    )
    if not ok:
        raise UsageError(
            f"Argument `val_fraction` must be in (0, 1). Received: val_fraction={val_fraction!r}"
        )
    return float(val_fraction)


def check_subsample(subsample: Any) -> int | None:
    if subsample is None:
        return None
    if (
        isinstance(subsample, bool)
        or not isinstance(subsample, (int, np.integer))
        or subsample < 2
    ):
        raise UsageError(
            "Argument `subsample` must be None or an integer >= 2. "
            f"Received: subsample={subsample!r}"
        )
    return int(subsample)


def check_seed(seed: Any) -> int:
    if (
        isinstance(seed, bool)
        or not isinstance(seed, (int, np.integer))
        or not 0 <= seed <= MAX_SEED
    ):
        raise UsageError(
            f"Argument `seed` must be an integer in [0, {MAX_SEED}]. Received: seed={seed!r}"
        )
    return int(seed)


def check_task_for(name: Any, task: Any) -> str:
    """Validate ``task`` (``auto``, ``classification``, ``regression``) against a dataset name.

    A named dataset has a known task; asking for the other one is a :class:`UsageError`.
    Files take either task. Returns the task name (``auto`` stays ``auto`` for files).
    """
    try:
        task = check_task(task)
    except ValueError:
        raise UsageError(
            f"Unknown task {task!r}. Use --task auto (decide from the target), classification "
            "or regression."
        ) from None
    source = resolve(name)
    if isinstance(source, str):
        known = REGISTRY[source].task
        if task not in ("auto", known):
            raise UsageError(
                f"Dataset '{source}' is a {known} dataset; it cannot be trained as {task}. Drop "
                f"--task (or pass --task {known}), or use a .csv/.npz file of your own."
            )
        return known if task == "auto" else task
    return task


def load_dataset(
    name: str,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    subsample: int | None = None,
    task: str = "auto",
) -> Dataset:
    """Load a dataset by name (see :data:`DATASETS`) or from a ``.npz``/``.csv`` path.

    ``subsample`` keeps a seeded random choice of that many examples before the split (the
    articles use 20,000 MNIST images); with a fixed ``.npz`` split it thins the training part
    only. ``val_fraction`` of the rest becomes the validation split, drawn with ``seed`` and
    stratified by class where every class has at least two examples. A fixed ``.npz`` split
    ignores ``val_fraction``.

    ``task``: ``auto`` (named datasets have their own; files are decided from the target by
    :func:`lrsearch.tasks.detect_task`), ``classification`` or ``regression``. A regression
    target is standardised with the training split (``Dataset.target_mean`` / ``target_std``).

    Raises :class:`~lrsearch.errors.UsageError` on an unknown name, a missing or unreadable
    file, bad contents, a task the dataset cannot have, or bad arguments.
    """
    val_fraction = check_val_fraction(val_fraction)
    seed = check_seed(seed)
    subsample = check_subsample(subsample)
    task = check_task_for(name, task)
    source = resolve(name)
    if isinstance(source, pathlib.Path):
        if source.suffix.lower() == ".npz":
            return load_npz(source, val_fraction, seed, subsample, task)
        return load_csv(source, val_fraction, seed, subsample, task)
    return REGISTRY[source].load(source, val_fraction, seed, subsample)
