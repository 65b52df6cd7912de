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

from lrsearch.data.dataset import Dataset
from lrsearch.data.load import BUNDLED
from lrsearch.data.load import DATASET_TASKS
from lrsearch.data.load import DATASETS
from lrsearch.data.load import MAX_SEED
from lrsearch.data.load import check_dataset
from lrsearch.data.load import check_task_for
from lrsearch.data.load import load_dataset
from lrsearch.data.named import REGISTRY
from lrsearch.data.named import NamedDataset
from lrsearch.data.named import download_lock

__all__ = [
    "BUNDLED",
    "DATASETS",
    "DATASET_TASKS",
    "MAX_SEED",
    "REGISTRY",
    "Dataset",
    "NamedDataset",
    "check_dataset",
    "check_task_for",
    "download_lock",
    "load_dataset",
]
