"""What every source does to its arrays: subsample, split, standardise, encode the target.

Classification targets become int32 class indices ``0..k-1`` (sorted distinct values);
regression targets float32, standardised with the training split (``(y - mean) / std``).
Features of tabular sources are standardised with the training split too.
"""

from __future__ import annotations

import numpy as np

from lrsearch.data.dataset import Dataset
from lrsearch.errors import UsageError
from lrsearch.tasks import detect_task


def take_subsample(
    x: np.ndarray, y: np.ndarray, subsample: int | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded choice of ``subsample`` examples (all of them when there are fewer)."""
    if subsample is None or subsample >= len(y):
        return x, y
    index = np.sort(np.random.default_rng(seed).choice(len(y), size=subsample, replace=False))
    return x[index], y[index]


def split(
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


def standardise_features(x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale features with the training split's mean and standard deviation (std 0 -> 1)."""
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0
    return (
        ((x_train - mean) / std).astype(np.float32),
        ((x_val - mean) / std).astype(np.float32),
    )


def make(
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


def make_regression(
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


def regression_target(source: str, y: np.ndarray) -> np.ndarray:
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


def decide(source: str, y: np.ndarray, task: str) -> tuple[str, str]:
    """``(task, reason)``: the task asked for, or the one :func:`detect_task` finds."""
    if task != "auto":
        return task, "--task " + task
    decided, why = detect_task(y)
    return decided, why


def finish(
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
        target = regression_target(source, y)
        x, target = take_subsample(x, target, subsample, seed)
        x_train, y_train, x_val, y_val = split(
            x, target, val_fraction, seed, source, classes=False
        )
        if standardise:
            x_train, x_val = standardise_features(x_train, x_val)
        return make_regression(name, x_train, y_train, x_val, y_val, reason)
    (labels,), n_classes = encode_labels(source, y)
    x, labels = take_subsample(x, labels, subsample, seed)
    x_train, y_train, x_val, y_val = split(x, labels, val_fraction, seed, source)
    if standardise:
        x_train, x_val = standardise_features(x_train, x_val)
    return make(name, x_train, y_train, x_val, y_val, n_classes, reason)


def encode_labels(source: str, *labels: np.ndarray) -> tuple[list[np.ndarray], int]:
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
