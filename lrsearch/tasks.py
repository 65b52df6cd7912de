"""Tasks: classification or regression, decided from the target and carried by the study.

One home for what differs between the two tasks: how a target is recognised, the loss and the
metric a model is compiled with, and the metric's name in histories, tables and plots.

* ``classification``: integer class indices ``0..k-1``; sparse categorical cross-entropy (or
  binary cross-entropy for one sigmoid unit); metric ``accuracy`` (higher is better).
* ``regression``: a float target, standardised on the training split
  (``y' = (y - mean) / std``); mean squared error (so ``val_loss`` is the MSE of the
  standardised target); metric ``mae`` (lower is better), also on the standardised target.

``auto`` decides from the target (:func:`detect_task`)::

    strings or booleans                                     -> classification
    whole numbers with k <= 100 distinct values and
      at least 5 examples per value on average (k <= n / 5) -> classification
    anything else (fractional floats, many distinct values) -> regression
"""

from __future__ import annotations

from typing import Any

import numpy as np

TASKS: tuple[str, ...] = ("classification", "regression")
"""The tasks a study can have."""

TASK_CHOICES: tuple[str, ...] = ("auto", *TASKS)
"""What ``--task`` takes."""

MAX_CLASSES = 100
"""``auto``: more distinct whole-number values than this means regression."""

MIN_PER_CLASS = 5
"""``auto``: fewer examples per distinct value than this (on average) means regression."""

#: the metric recorded per epoch for each task, and whether higher is better (per metric)
METRIC: dict[str, str] = {"classification": "accuracy", "regression": "mae"}
HIGHER_IS_BETTER: dict[str, bool] = {"accuracy": True, "mae": False}
#: the metric series a history may hold, training and validation
HISTORY_METRICS: tuple[str, ...] = ("accuracy", "val_accuracy", "mae", "val_mae")
METRIC_LABEL: dict[str, str] = {"accuracy": "accuracy", "mae": "mean absolute error"}

#: what is done to the data, in words, for ``--help``, the README and ``lrsearch best``
DATA_TREATMENT: dict[str, str] = {
    "classification": (
        "labels are mapped to 0..k-1 in sorted order; tabular features are standardised with "
        "the training split's mean and standard deviation, images scaled to [0, 1]"
    ),
    "regression": (
        "the target is standardised with the training split's mean and standard deviation "
        "(y' = (y - mean) / std), so val_loss is the mean squared error and mae the mean "
        "absolute error of the standardised target; tabular features are standardised the "
        "same way"
    ),
}


def check_task(task: Any, *, allow_auto: bool = True) -> str:
    """The task name, lower-cased; ``ValueError`` naming the choices otherwise."""
    choices = TASK_CHOICES if allow_auto else TASKS
    if isinstance(task, str) and task.strip().lower() in choices:
        return task.strip().lower()
    raise ValueError(
        f"Argument `task` must be one of {', '.join(choices)}. Received: task={task!r}"
    )


def metric_of(task: str) -> str:
    """The per-epoch metric of ``task``: ``accuracy`` or ``mae``."""
    return METRIC[check_task(task, allow_auto=False)]


def detect_task(y: np.ndarray) -> tuple[str, str]:
    """``(task, why)`` for a target array, by the rule in the module docstring.

    >>> detect_task(np.array([0, 1, 1, 0, 2] * 4))[0]
    'classification'
    >>> detect_task(np.linspace(0.0, 1.0, 50))[0]
    'regression'
    """
    values = np.asarray(y).ravel()
    if values.dtype.kind in "USOb":
        return "classification", "the labels are not numbers"
    if values.dtype.kind == "f":
        finite = values[np.isfinite(values)]
        if finite.size and not np.all(finite == np.round(finite)):
            return "regression", "the target has fractional values"
    n = len(values)
    k = len(np.unique(values))
    if k <= MAX_CLASSES and k * MIN_PER_CLASS <= max(n, 2 * MIN_PER_CLASS):
        return "classification", f"the target has {k} distinct whole-number values"
    return "regression", f"the target has {k} distinct values in {n} examples"


def loss_and_metrics(task: str, output_units: int | None) -> tuple[str, list[str]]:
    """The loss and metrics to compile a model with.

    Regression: ``("mean_squared_error", ["mae"])``. Classification with one output unit (a
    sigmoid for two classes, labels 0/1): ``("binary_crossentropy", ["accuracy"])``; otherwise
    ``("sparse_categorical_crossentropy", ["accuracy"])``.
    """
    if check_task(task, allow_auto=False) == "regression":
        return "mean_squared_error", ["mae"]
    if output_units == 1:
        return "binary_crossentropy", ["accuracy"]
    return "sparse_categorical_crossentropy", ["accuracy"]


def history_metric(history: dict[str, Any]) -> str:
    """The metric a recorded history holds: ``mae`` where measured, else ``accuracy``."""
    return "mae" if "val_mae" in history or "mae" in history else "accuracy"
