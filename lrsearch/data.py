"""Datasets for the trials: bundled scikit-learn sets, Keras' MNIST loaders, ``.npz`` and ``.csv``.

Every loader returns a :class:`Dataset` with float32 features, a seeded (stratified where
possible) validation split and a task (:mod:`lrsearch.tasks`): int32 class indices
``0..n_classes-1`` for classification, or a float32 target standardised with the training
split's mean and standard deviation for regression (``Dataset.target_mean`` /
``target_std`` undo it). ``task="auto"`` decides from the target.

- ``digits``: scikit-learn's 8x8 digits as ``(n, 8, 8, 1)`` images scaled to [0, 1], so both
  ``mlp`` (which flattens) and ``cnn`` apply.
- ``breast_cancer`` (2 classes, 30 features), ``wine`` (3 classes, 13 features), ``iris``
  (3 classes, 4 features): tabular, standardised with the mean and standard deviation of the
  training split only.
- ``diabetes`` (regression, 442 examples, 10 features, a disease-progression score from 25 to
  346): tabular, features and target standardised on the training split.
- ``mnist``, ``fashion_mnist``: Keras' loaders (network once, then cached by Keras); the
  60,000 training images as ``(n, 28, 28, 1)`` scaled to [0, 1], optionally subsampled, then
  split. Keras' test images are left untouched for the user's own final evaluation.
- a ``.npz`` file with keys ``x, y`` (split here) or ``x_train, y_train, x_val, y_val`` (used as
  given). Values are used as stored, except ``uint8`` features, which are scaled by 1/255 like
  image pixels; ``(n, h, w)`` features get a channel axis.
- a ``.csv`` file: a header row, the last column the label or target (strings or numbers), the
  other columns numeric features, standardised on the training split.

Class labels of files are mapped to ``0..k-1`` in sorted order of their distinct values.

Nothing here imports scikit-learn, pandas or Keras at module level: importing the package stays
fast, and a bad name or path fails before anything heavy is loaded.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import os
import pathlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from lrsearch.errors import UsageError
from lrsearch.tasks import check_task
from lrsearch.tasks import detect_task

#: the named datasets and their task: scikit-learn's bundled sets, then Keras' loaders
DATASET_TASKS: dict[str, str] = {
    "digits": "classification",
    "breast_cancer": "classification",
    "wine": "classification",
    "iris": "classification",
    "diabetes": "regression",
    "mnist": "classification",
    "fashion_mnist": "classification",
}

DATASETS: tuple[str, ...] = tuple(DATASET_TASKS)
"""Names of the datasets that need no file."""

MAX_SEED = 2**31 - 1
"""Largest seed accepted: derived seeds (seed + trial number) stay inside NumPy's range."""

BUNDLED: tuple[str, ...] = ("digits", "breast_cancer", "wine", "iris", "diabetes")
"""The datasets scikit-learn ships (no network)."""

_FILE_SUFFIXES = (".npz", ".csv")
_CHOICES = f"Use one of {', '.join(DATASETS)}, or a path to a .npz or .csv file."


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A dataset already split into training and validation parts.

    ``x_*`` are float32 arrays of shape ``(n, *input_shape)``. Classification: ``y_*`` are
    int32 class indices in ``0..n_classes-1``. Regression (``n_classes`` 0): ``y_*`` are the
    float32 target standardised with the training split, ``y' = (y - target_mean) /
    target_std``. ``task_reason`` says how the task was decided.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    task: str = "classification"
    target_mean: float | None = None
    target_std: float | None = None
    task_reason: str = ""

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example (``x_train.shape[1:]``), what a model's ``Input`` takes."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_outputs(self) -> int:
        """Output units a model needs: the number of classes, or 1 for regression."""
        return 1 if self.task == "regression" else self.n_classes

    def describe_task(self) -> str:
        """One line: the task, why, and what was done to the target."""
        if self.task == "regression":
            return (
                f"regression ({self.task_reason}); target standardised: mean "
                f"{self.target_mean:.6g}, std {self.target_std:.6g}"
            )
        return f"classification, {self.n_classes} classes ({self.task_reason})"

    def fingerprint(self) -> str:
        """A short stable hash of the shapes, the class count and the content of all arrays.

        Two loads with the same source, split seed, fraction and subsample give the same
        fingerprint; it tags studies so results from different data are not mixed up.
        """
        digest = hashlib.blake2b(digest_size=8)
        digest.update(f"n_classes={self.n_classes};task={self.task};".encode())
        for key in ("x_train", "y_train", "x_val", "y_val"):
            array = np.ascontiguousarray(getattr(self, key))
            digest.update(f"{key}:{array.dtype.str}:{array.shape};".encode())
            digest.update(array.data)
        return digest.hexdigest()

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, input_shape={self.input_shape}, "
            f"n_classes={self.n_classes}, n_train={len(self.y_train)}, n_val={len(self.y_val)})"
        )


# --------------------------------------------------------------------------- validation


def _normalised_name(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def _looks_like_path(name: str) -> bool:
    return (
        os.sep in name
        or (os.altsep is not None and os.altsep in name)
        or pathlib.Path(name).suffix != ""
    )


def _resolve(name: Any) -> str | pathlib.Path:
    """The canonical dataset name, or the path of an existing ``.npz``/``.csv`` file."""
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"The dataset must be a name or a file path, got {name!r}. {_CHOICES}")
    key = _normalised_name(name)
    if key in DATASETS:
        return key
    if not _looks_like_path(name):
        close = difflib.get_close_matches(key, DATASETS, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"Unknown dataset '{name}'.{hint} {_CHOICES}")
    path = pathlib.Path(name).expanduser()
    if path.suffix.lower() not in _FILE_SUFFIXES:
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
    _resolve(name)


def _check_val_fraction(val_fraction: Any) -> float:
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


def _check_subsample(subsample: Any) -> int | None:
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


def _check_seed(seed: Any) -> int:
    if (
        isinstance(seed, bool)
        or not isinstance(seed, (int, np.integer))
        or not 0 <= seed <= MAX_SEED
    ):
        raise UsageError(
            f"Argument `seed` must be an integer in [0, {MAX_SEED}]. Received: seed={seed!r}"
        )
    return int(seed)


# --------------------------------------------------------------------------- helpers


def _subsample(
    x: np.ndarray, y: np.ndarray, subsample: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded choice of ``subsample`` examples (all of them when there are fewer)."""
    if subsample is None or subsample >= len(y):
        return x, y
    index = np.sort(np.random.default_rng(seed).choice(len(y), size=subsample, replace=False))
    return x[index], y[index]


def _split(
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    seed: int,
    source: str,
    *,
    classes: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train/validation split, stratified when every class can appear on both sides."""
    from sklearn.model_selection import train_test_split

    n = len(y)
    n_val = int(np.ceil(n * val_fraction))
    if n_val < 1 or n - n_val < 1:
        raise UsageError(
            f"Dataset {source} has {n} examples, too few to split with "
            f"val_fraction={val_fraction}. Use more data or a different val_fraction."
        )
    stratify = None
    if classes:
        counts = np.bincount(y)
        n_classes = int(np.count_nonzero(counts))
        if counts[counts > 0].min() >= 2 and n_val >= n_classes and n - n_val >= n_classes:
            stratify = y
    try:
        parts = train_test_split(
            x, y, test_size=n_val, random_state=seed, shuffle=True, stratify=stratify
        )
    except ValueError:  # stratification impossible after all: plain seeded shuffle
        parts = train_test_split(x, y, test_size=n_val, random_state=seed, shuffle=True)
    x_train, x_val, y_train, y_val = parts
    return x_train, y_train, x_val, y_val


def _standardise(x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale features with the training split's mean and standard deviation (std 0 -> 1)."""
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0
    return (
        ((x_train - mean) / std).astype(np.float32),
        ((x_val - mean) / std).astype(np.float32),
    )


def _make(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    reason: str = "",
) -> Dataset:
    """A classification :class:`Dataset` (int32 class indices)."""
    return Dataset(
        name=name,
        x_train=np.ascontiguousarray(x_train, dtype=np.float32),
        y_train=np.ascontiguousarray(y_train, dtype=np.int32),
        x_val=np.ascontiguousarray(x_val, dtype=np.float32),
        y_val=np.ascontiguousarray(y_val, dtype=np.int32),
        n_classes=int(n_classes),
        task="classification",
        task_reason=reason,
    )


def _make_regression(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    reason: str,
) -> Dataset:
    """A regression :class:`Dataset`: the target standardised with the training split.

    ``y' = (y - mean) / std`` with the training split's mean and standard deviation (std 0 ->
    1); both are kept on the dataset so predictions can be mapped back.
    """
    mean = float(np.mean(y_train, dtype=np.float64))
    std = float(np.std(y_train, dtype=np.float64)) or 1.0
    return Dataset(
        name=name,
        x_train=np.ascontiguousarray(x_train, dtype=np.float32),
        y_train=np.ascontiguousarray((y_train - mean) / std, dtype=np.float32),
        x_val=np.ascontiguousarray(x_val, dtype=np.float32),
        y_val=np.ascontiguousarray((y_val - mean) / std, dtype=np.float32),
        n_classes=0,
        task="regression",
        target_mean=mean,
        target_std=std,
        task_reason=reason,
    )


def _regression_target(source: str, y: np.ndarray) -> np.ndarray:
    """A numeric 1-D target as float64; :class:`UsageError` for text or missing values."""
    values = np.asarray(y)
    if values.dtype.kind not in "biuf":
        raise UsageError(
            f"Dataset {source}: the target holds {values.dtype} values, but regression needs "
            "numbers. Use a numeric target column, or pass --task classification for labels."
        )
    values = values.astype(np.float64).ravel()
    if not np.isfinite(values).all():
        raise UsageError(
            f"Dataset {source}: the target has missing or infinite values. Give every example "
            "a finite target value."
        )
    return values


def _decide(source: str, y: np.ndarray, task: str) -> tuple[str, str]:
    """``(task, reason)``: the task asked for, or the one :func:`detect_task` finds."""
    if task != "auto":
        return task, "--task " + task
    decided, why = detect_task(y)
    return decided, why


def _finish(
    name: str,
    source: str,
    task: str,
    reason: str,
    x: np.ndarray,
    y: np.ndarray,
    val_fraction: float,
    seed: int,
    subsample: int | None,
    *,
    standardise: bool,
) -> Dataset:
    """Encode or check the target, subsample, split and standardise one source's arrays."""
    if task == "regression":
        target = _regression_target(source, y)
        x, target = _subsample(x, target, subsample, seed)
        x_train, y_train, x_val, y_val = _split(
            x, target, val_fraction, seed, source, classes=False
        )
        if standardise:
            x_train, x_val = _standardise(x_train, x_val)
        return _make_regression(name, x_train, y_train, x_val, y_val, reason)
    (labels,), n_classes = _encode_labels(source, y)
    x, labels = _subsample(x, labels, subsample, seed)
    x_train, y_train, x_val, y_val = _split(x, labels, val_fraction, seed, source)
    if standardise:
        x_train, x_val = _standardise(x_train, x_val)
    return _make(name, x_train, y_train, x_val, y_val, n_classes, reason)


def _encode_labels(source: str, *labels: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Map the sorted distinct values of all label arrays to ``0..k-1``."""
    try:
        classes = np.unique(np.concatenate([np.asarray(y).ravel() for y in labels]))
    except TypeError as exc:  # mixed types that cannot be sorted
        raise UsageError(
            f"Dataset {source}: the labels cannot be sorted ({exc}). Use labels of one type, "
            "all numbers or all strings."
        ) from None
    if classes.dtype.kind == "f" and np.isnan(classes).any():
        raise UsageError(
            f"Dataset {source}: some labels are missing (NaN). Give every example a label."
        )
    if len(classes) < 2:
        found = "no labels" if len(classes) == 0 else f"only the class {classes[0].item()!r}"
        raise UsageError(
            f"Dataset {source} has {found}; classification needs at least 2 classes. "
            "Check the label column (the last one for .csv, y for .npz)."
        )
    encoded = [np.searchsorted(classes, np.asarray(y).ravel()).astype(np.int32) for y in labels]
    return encoded, len(classes)


# --------------------------------------------------------------------------- sources


def _load_bundled(name: str, val_fraction: float, seed: int, subsample: int | None) -> Dataset:
    from sklearn import datasets as skdatasets

    loader = getattr(skdatasets, f"load_{name}")
    bunch = loader()
    x = np.asarray(bunch.data, dtype=np.float32)
    reason = f"'{name}' is a {DATASET_TASKS[name]} dataset"
    if DATASET_TASKS[name] == "regression":
        return _finish(
            name, f"'{name}'", "regression", reason, x, np.asarray(bunch.target),
            val_fraction, seed, subsample, standardise=True,
        )  # fmt: skip
    y = np.asarray(bunch.target, dtype=np.int32)
    n_classes = len(bunch.target_names)
    if name == "digits":
        x = (x / 16.0).reshape(-1, 8, 8, 1).astype(np.float32)
    x, y = _subsample(x, y, subsample, seed)
    x_train, y_train, x_val, y_val = _split(x, y, val_fraction, seed, f"'{name}'")
    if name != "digits":
        x_train, x_val = _standardise(x_train, x_val)
    return _make(name, x_train, y_train, x_val, y_val, n_classes, reason)


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


def _load_keras(name: str, val_fraction: float, seed: int, subsample: int | None) -> Dataset:
    try:
        import keras

        with download_lock():
            (x, y), _test = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # noqa: BLE001 - any failure here is the download or the cache
        raise UsageError(
            f"Dataset '{name}' could not be loaded ({type(exc).__name__}: "
            f"{_one_line(exc)}). Keras downloads it from the network the first time and caches "
            "it under ~/.keras/datasets; run once with network access, or use a bundled dataset "
            "(digits, breast_cancer, wine, iris) or a .npz file of your own."
        ) from None
    x = np.asarray(x)
    y = np.asarray(y).astype(np.int32).ravel()
    x, y = _subsample(x, y, subsample, seed)
    x = (x.astype(np.float32) / 255.0)[..., np.newaxis]
    x_train, y_train, x_val, y_val = _split(x, y, val_fraction, seed, f"'{name}'")
    n_classes = int(max(y.max(initial=0), y_val.max(initial=0))) + 1
    return _make(
        name, x_train, y_train, x_val, y_val, n_classes, f"'{name}' is a classification dataset"
    )


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or "no message"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _npz_features(source: str, key: str, x: np.ndarray) -> np.ndarray:
    if x.dtype.kind not in "biuf":
        raise UsageError(
            f"Dataset {source}: '{key}' holds {x.dtype} values, not numbers. Store the "
            "features as a numeric array."
        )
    if x.ndim == 0 or x.shape[0] == 0:
        raise UsageError(f"Dataset {source}: '{key}' is empty. Store at least a few examples.")
    scale = 1.0 / 255.0 if x.dtype == np.uint8 else 1.0
    out = x.astype(np.float32) * np.float32(scale)
    if out.ndim == 1:
        out = out[:, np.newaxis]
    elif out.ndim == 3:  # (n, height, width) images: add the channel axis
        out = out[..., np.newaxis]
    if not np.isfinite(out).all():
        raise UsageError(
            f"Dataset {source}: '{key}' contains NaN or infinite values. Clean the features."
        )
    return out


def _npz_labels(
    source: str, key: str, y: np.ndarray, n: int, task: str = "classification"
) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] > 1 and task == "regression":
        raise UsageError(
            f"Dataset {source}: '{key}' has {y.shape[1]} columns, but regression takes one "
            "target value per example. Store y with shape (n,), or pass --task classification "
            "for one-hot labels."
        )
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot rows
        y = y.argmax(axis=1)
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise UsageError(
            f"Dataset {source}: '{key}' has shape {y.shape} but the features have {n} examples. "
            "Store one label per example."
        )
    if y.dtype.kind not in "biufUS":
        raise UsageError(
            f"Dataset {source}: '{key}' holds {y.dtype} values. Store the labels as numbers "
            "or strings."
        )
    return y


def _npz_task(source: str, task: str, *targets: np.ndarray) -> tuple[str, str]:
    """The task of an ``.npz`` file's targets: one-hot rows are classes."""
    if task == "auto" and any(t.ndim == 2 and t.shape[1] > 1 for t in targets):
        return "classification", "the labels are one-hot rows"
    flat = np.concatenate([np.asarray(t).ravel() for t in targets])
    return _decide(source, flat, task)


def _load_npz(
    path: pathlib.Path, val_fraction: float, seed: int, subsample: int | None, task: str
) -> Dataset:
    source = f"file '{path}'"
    how = (
        "Save it with numpy.savez(path, x=..., y=...) or "
        "numpy.savez(path, x_train=..., y_train=..., x_val=..., y_val=...)."
    )
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise UsageError(
                f"Dataset {source} holds a single array, not an .npz archive of named arrays. "
                + how
            )
        with loaded:
            arrays = {key: np.asarray(loaded[key]) for key in loaded.files}
    except UsageError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt zip, pickled objects, I/O errors
        raise UsageError(
            f"Dataset {source} could not be read as .npz ({type(exc).__name__}: "
            f"{_one_line(exc)}). " + how
        ) from None
    keys = set(arrays)
    fixed = {"x_train", "y_train", "x_val", "y_val"}
    if fixed <= keys:
        x_train = _npz_features(source, "x_train", arrays["x_train"])
        x_val = _npz_features(source, "x_val", arrays["x_val"])
        if x_train.shape[1:] != x_val.shape[1:]:
            raise UsageError(
                f"Dataset {source}: x_train examples have shape {x_train.shape[1:]} but x_val "
                f"examples have shape {x_val.shape[1:]}. Store both with the same shape."
            )
        task, reason = _npz_task(source, task, arrays["y_train"], arrays["y_val"])
        y_train = _npz_labels(source, "y_train", arrays["y_train"], len(x_train), task)
        y_val = _npz_labels(source, "y_val", arrays["y_val"], len(x_val), task)
        if task == "regression":
            y_train = _regression_target(source, y_train)
            y_val = _regression_target(source, y_val)
            x_train, y_train = _subsample(x_train, y_train, subsample, seed)
            return _make_regression(str(path), x_train, y_train, x_val, y_val, reason)
        (y_train, y_val), n_classes = _encode_labels(source, y_train, y_val)
        x_train, y_train = _subsample(x_train, y_train, subsample, seed)
        return _make(str(path), x_train, y_train, x_val, y_val, n_classes, reason)
    if {"x", "y"} <= keys:
        x = _npz_features(source, "x", arrays["x"])
        task, reason = _npz_task(source, task, arrays["y"])
        y = _npz_labels(source, "y", arrays["y"], len(x), task)
        return _finish(
            str(path), source, task, reason, x, y, val_fraction, seed, subsample,
            standardise=False,
        )  # fmt: skip
    found = ", ".join(sorted(keys)) or "none"
    raise UsageError(
        f"Dataset {source} has the keys {found}, but lrsearch needs either 'x' and 'y' (split "
        "here) or 'x_train', 'y_train', 'x_val' and 'y_val' (a fixed split). Save it with "
        "numpy.savez(path, x=features, y=labels)."
    )


def _load_csv(
    path: pathlib.Path, val_fraction: float, seed: int, subsample: int | None, task: str
) -> Dataset:
    import pandas as pd

    source = f"file '{path}'"
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise UsageError(
            f"Dataset {source} is empty. It needs a header row and one row per example, "
            "the label in the last column."
        ) from None
    except Exception as exc:  # noqa: BLE001 - parser, encoding and I/O errors
        raise UsageError(
            f"Dataset {source} could not be read as CSV ({type(exc).__name__}: "
            f"{_one_line(exc)}). It needs a header row and comma-separated values, the label "
            "in the last column."
        ) from None
    if frame.shape[1] < 2:
        raise UsageError(
            f"Dataset {source} has {frame.shape[1]} column(s); it needs at least one feature "
            "column and the label in the last column, with a header row."
        )
    if len(frame) == 0:
        raise UsageError(f"Dataset {source} has a header but no rows. Add one row per example.")
    features = frame.iloc[:, :-1]
    bad = [
        str(column)
        for column in features.columns
        if not pd.api.types.is_numeric_dtype(features[column])
        or pd.api.types.is_bool_dtype(features[column])
    ]
    if bad:
        listed = ", ".join(f"'{c}'" for c in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise UsageError(
            f"Dataset {source}: the feature column(s) {listed} are not numeric. Every column "
            "but the last (the label) must hold numbers; encode categories as numbers first."
        )
    x = features.to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        finite = np.isfinite(x).all(axis=0)
        columns = [str(c) for c, ok in zip(features.columns, finite, strict=True) if not ok]
        raise UsageError(
            f"Dataset {source}: the column(s) {', '.join(columns[:5])} have missing or infinite "
            "values. Fill or drop those rows first."
        )
    labels = frame.iloc[:, -1]
    if labels.isna().any():
        raise UsageError(
            f"Dataset {source}: the label column '{frame.columns[-1]}' has missing values. "
            "Give every row a label."
        )
    y_raw = labels.to_numpy()
    if y_raw.dtype == object:
        y_raw = y_raw.astype(str)
    task, reason = _decide(source, y_raw, task)
    return _finish(
        str(path), source, task, reason, x, y_raw, val_fraction, seed, subsample,
        standardise=True,
    )  # fmt: skip


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
    source = _resolve(name)
    if isinstance(source, str):
        known = DATASET_TASKS[source]
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
    val_fraction = _check_val_fraction(val_fraction)
    seed = _check_seed(seed)
    subsample = _check_subsample(subsample)
    task = check_task_for(name, task)
    source = _resolve(name)
    if isinstance(source, pathlib.Path):
        if source.suffix.lower() == ".npz":
            return _load_npz(source, val_fraction, seed, subsample, task)
        return _load_csv(source, val_fraction, seed, subsample, task)
    if source in BUNDLED:
        return _load_bundled(source, val_fraction, seed, subsample)
    return _load_keras(source, val_fraction, seed, subsample)
