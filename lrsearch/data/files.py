"""Datasets from files: ``.npz`` (``x, y`` or a fixed split) and ``.csv`` (label last).

- a ``.npz`` file with keys ``x, y`` (split here) or ``x_train, y_train, x_val, y_val`` (used as
  given). Values are used as stored, except ``uint8`` features, which are scaled by 1/255 like
  image pixels; ``(n, h, w)`` features get a channel axis. One-hot ``y`` rows are classes.
- a ``.csv`` file: a header row, the last column the label or target (strings or numbers), the
  other columns numeric features, standardised on the training split.

The task is the one asked for, or decided from the target (:func:`lrsearch.tasks.detect_task`).
"""

from __future__ import annotations

import pathlib

import numpy as np

from lrsearch.checks import one_line
from lrsearch.data.arrays import decide
from lrsearch.data.arrays import encode_labels
from lrsearch.data.arrays import finish
from lrsearch.data.arrays import make
from lrsearch.data.arrays import make_regression
from lrsearch.data.arrays import regression_target
from lrsearch.data.arrays import take_subsample
from lrsearch.data.dataset import Dataset
from lrsearch.errors import UsageError

FILE_SUFFIXES = (".npz", ".csv")


def npz_features(source: str, key: str, x: np.ndarray) -> np.ndarray:
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


def npz_labels(
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


def npz_task(source: str, task: str, *targets: np.ndarray) -> tuple[str, str]:
    """The task of an ``.npz`` file's targets: one-hot rows are classes."""
    if task == "auto" and any(t.ndim == 2 and t.shape[1] > 1 for t in targets):
        return "classification", "the labels are one-hot rows"
    flat = np.concatenate([np.asarray(t).ravel() for t in targets])
    return decide(source, flat, task)


def load_npz(
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
            f"{one_line(exc)}). " + how
        ) from None
    keys = set(arrays)
    fixed = {"x_train", "y_train", "x_val", "y_val"}
    if fixed <= keys:
        x_train = npz_features(source, "x_train", arrays["x_train"])
        x_val = npz_features(source, "x_val", arrays["x_val"])
        if x_train.shape[1:] != x_val.shape[1:]:
            raise UsageError(
                f"Dataset {source}: x_train examples have shape {x_train.shape[1:]} but x_val "
                f"examples have shape {x_val.shape[1:]}. Store both with the same shape."
            )
        task, reason = npz_task(source, task, arrays["y_train"], arrays["y_val"])
        y_train = npz_labels(source, "y_train", arrays["y_train"], len(x_train), task)
        y_val = npz_labels(source, "y_val", arrays["y_val"], len(x_val), task)
        if task == "regression":
            y_train = regression_target(source, y_train)
            y_val = regression_target(source, y_val)
            x_train, y_train = take_subsample(x_train, y_train, subsample, seed)
            return make_regression(str(path), x_train, y_train, x_val, y_val, reason)
        (y_train, y_val), n_classes = encode_labels(source, y_train, y_val)
        x_train, y_train = take_subsample(x_train, y_train, subsample, seed)
        return make(str(path), x_train, y_train, x_val, y_val, n_classes, reason)
    if {"x", "y"} <= keys:
        x = npz_features(source, "x", arrays["x"])
        task, reason = npz_task(source, task, arrays["y"])
        y = npz_labels(source, "y", arrays["y"], len(x), task)
        return finish(
            str(path), source, task, reason, x, y, val_fraction, seed, subsample,
            standardise=False,
        )  # fmt: skip
    found = ", ".join(sorted(keys)) or "none"
    raise UsageError(
        f"Dataset {source} has the keys {found}, but lrsearch needs either 'x' and 'y' (split "
        "here) or 'x_train', 'y_train', 'x_val' and 'y_val' (a fixed split). Save it with "
        "numpy.savez(path, x=features, y=labels)."
    )


def load_csv(
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
            f"{one_line(exc)}). It needs a header row and comma-separated values, the label "
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
    task, reason = decide(source, y_raw, task)
    return finish(
        str(path), source, task, reason, x, y_raw, val_fraction, seed, subsample,
        standardise=True,
    )  # fmt: skip
