"""Keras optimizers by name, with the learning rate as a variable or an in-graph schedule."""

from __future__ import annotations

import keras

from lrsearch.optimizers import OPTIMIZERS
from lrsearch.optimizers import check_optimizer


def build_optimizer(
    name: str,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule,
    *,
    momentum: float = 0.0,
) -> keras.optimizers.Optimizer:
    """A fresh Keras optimizer ``name`` (sgd, nesterov, adam, rmsprop, adagrad, adadelta).

    ``momentum`` is used by ``sgd`` and ``nesterov`` only.
    """
    cls_name, kwargs, has_momentum = OPTIMIZERS[check_optimizer(name)]
    if has_momentum:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(
                f"Argument `momentum` must be in [0, 1). Received: momentum={momentum}"
            )
        kwargs = {**kwargs, "momentum": float(momentum)}
    cls = getattr(keras.optimizers, cls_name)
    lr = learning_rate if not isinstance(learning_rate, (int, float)) else float(learning_rate)
    optimizer: keras.optimizers.Optimizer = cls(learning_rate=lr, **kwargs)
    return optimizer
