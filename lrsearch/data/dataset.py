"""The :class:`Dataset`: features, targets and the task, already split."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np


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
