"""The named datasets: one registry entry each, with its task, source and loader.

Adding a dataset is one :class:`NamedDataset` in :data:`REGISTRY`: the names accepted by
``--dataset``, the help texts, the TOML check and the task of ``--task auto`` all read it.

- ``digits``: scikit-learn's 8x8 digits as ``(n, 8, 8, 1)`` images scaled to [0, 1], so both
  ``mlp`` (which flattens) and ``cnn`` apply.
- ``breast_cancer`` (2 classes, 30 features), ``wine`` (3 classes, 13 features), ``iris``
  (3 classes, 4 features): tabular, standardised with the training split.
- ``diabetes`` (regression, 442 examples, 10 features, a disease-progression score from 25 to
  346): tabular, features and target standardised on the training split.
- ``mnist``, ``fashion_mnist``: Keras' loaders (network once, then cached by Keras); the
  60,000 training images scaled to [0, 1] with a channel axis, optionally subsampled, then
  split. Keras' test images are left untouched for the user's own final evaluation.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from lrsearch.checks import one_line
from lrsearch.data.arrays import finish
from lrsearch.data.arrays import make
from lrsearch.data.arrays import split
from lrsearch.data.arrays import standardise_features
from lrsearch.data.arrays import take_subsample
from lrsearch.data.dataset import Dataset
from lrsearch.errors import UsageError

Loader = Callable[[str, float, int, "int | None"], Dataset]


@dataclasses.dataclass(frozen=True)
class NamedDataset:
    """A dataset known by name: ``load(name, val_fraction, seed, subsample)``."""

    name: str
    task: str
    source: str  # "scikit-learn" (bundled, no network) or "keras" (network once)
    load: Loader

    @property
    def bundled(self) -> bool:
        """Shipped with an installed package: no network needed."""
        return self.source == "scikit-learn"


def load_bundled(name: str, val_fraction: float, seed: int, subsample: int | None) -> Dataset:
    from sklearn import datasets as skdatasets

    loader = getattr(skdatasets, f"load_{name}")
    bunch = loader()
    x = np.asarray(bunch.data, dtype=np.float32)
    reason = f"'{name}' is a {REGISTRY[name].task} dataset"
    if REGISTRY[name].task == "regression":
        return finish(
            name, f"'{name}'", "regression", reason, x, np.asarray(bunch.target),
            val_fraction, seed, subsample, standardise=True,
        )  # fmt: skip
    y = np.asarray(bunch.target, dtype=np.int32)
    n_classes = len(bunch.target_names)
    if name == "digits":
        x = (x / 16.0).reshape(-1, 8, 8, 1).astype(np.float32)
    x, y = take_subsample(x, y, subsample, seed)
    x_train, y_train, x_val, y_val = split(x, y, val_fraction, seed, f"'{name}'")
    if name != "digits":
        x_train, x_val = standardise_features(x_train, x_val)
    return make(name, x_train, y_train, x_val, y_val, n_classes, reason)


@contextmanager
def download_lock() -> Iterator[None]:
    """One process at a time downloads into Keras' dataset cache.

    ``tune --workers W`` starts W processes that load the data at once; Keras' ``get_file``
    writes straight to the cache file, so a second process would see a half-written file, fail
    its hash check and download it again over the first. The lock is an exclusive ``flock`` on
    ``$KERAS_HOME/lrsearch-download.lock`` (default ``~/.keras``); where it cannot be taken
    (no ``fcntl``, a read-only home) loading goes on without it.
    """
    try:
        import fcntl

        home = pathlib.Path(os.environ.get("KERAS_HOME") or pathlib.Path.home() / ".keras")
        home.mkdir(parents=True, exist_ok=True)
        handle = open(home / "lrsearch-download.lock", "a")  # noqa: SIM115 - closed below
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # releases the lock


def load_keras(name: str, val_fraction: float, seed: int, subsample: int | None) -> Dataset:
    try:
        import keras

        with download_lock():
            (x, y), _test = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # noqa: BLE001 - any failure here is the download or the cache
        raise UsageError(
            f"Dataset '{name}' could not be loaded ({type(exc).__name__}: "
            f"{one_line(exc)}). Keras downloads it from the network the first time and caches "
            "it under ~/.keras/datasets; run once with network access, or use a bundled dataset "
            f"({', '.join(n for n, e in REGISTRY.items() if e.bundled)}) or a .npz file of your "
            "own."
        ) from None
    x = np.asarray(x)
    y = np.asarray(y).astype(np.int32).ravel()
    x, y = take_subsample(x, y, subsample, seed)
    x = x.astype(np.float32) / 255.0
    if x.ndim == 3:  # (n, height, width) grey images: add the channel axis
        x = x[..., np.newaxis]
    x_train, y_train, x_val, y_val = split(x, y, val_fraction, seed, f"'{name}'")
    n_classes = int(max(y.max(initial=0), y_val.max(initial=0))) + 1
    return make(
        name, x_train, y_train, x_val, y_val, n_classes, f"'{name}' is a classification dataset"
    )


def _entries() -> dict[str, NamedDataset]:
    bundled = [
        ("digits", "classification"),
        ("breast_cancer", "classification"),
        ("wine", "classification"),
        ("iris", "classification"),
        ("diabetes", "regression"),
    ]
    entries = [NamedDataset(n, t, "scikit-learn", load_bundled) for n, t in bundled]
    entries += [
        NamedDataset(n, "classification", "keras", load_keras) for n in ("mnist", "fashion_mnist")
    ]
    return {e.name: e for e in entries}


REGISTRY: dict[str, NamedDataset] = _entries()
"""Name -> :class:`NamedDataset`, in the order help texts list them."""
