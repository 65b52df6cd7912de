"""Training one model with one :class:`ScheduleSpec`: the only place that calls ``fit``."""

from __future__ import annotations

from typing import Any

import keras

from lrsearch.data import Dataset
from lrsearch.models import build_model
from lrsearch.models import loss_and_metrics
from lrsearch.space import ScheduleSpec

#: validation batches are inference only: larger batches cost no accuracy and save overhead
VALIDATION_BATCH = 1024


class Trainer:
    """Fits a fresh model of ``model`` on ``data`` for each spec.

    Args:
        data: the dataset, already split.
        model: ``mlp``, ``cnn`` or ``path/file.py:build``.
        batch_size: training batch size.
    """

    def __init__(self, data: Dataset, model: str, *, batch_size: int = 64) -> None:
        self.data = data
        self.model = model
        self.batch_size = batch_size

    def build(self, seed: int) -> keras.Model:
        """A fresh uncompiled model, initialised from ``seed``."""
        keras.utils.set_random_seed(seed)
        return build_model(self.model, self.data.input_shape, self.data.n_classes)

    def fit(
        self,
        spec: ScheduleSpec,
        epochs: int,
        seed: int,
        callbacks: list[keras.callbacks.Callback] | None = None,
    ) -> dict[str, list[Any]]:
        """Build, compile and fit one model with ``spec``; return ``History.history``."""
        keras.backend.clear_session()
        model = self.build(seed)
        loss, metrics = loss_and_metrics(model)
        model.compile(optimizer=spec.build_optimizer(), loss=loss, metrics=metrics)
        d = self.data
        history = model.fit(
            d.x_train,
            d.y_train,
            batch_size=self.batch_size,
            epochs=epochs,
            validation_data=(d.x_val, d.y_val),
            validation_batch_size=min(VALIDATION_BATCH, max(1, len(d.x_val))),
            callbacks=[*spec.callbacks(), *(callbacks or [])],
            shuffle=True,
            verbose=0,
        )
        return dict(history.history)
