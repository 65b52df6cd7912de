"""Training one model with one :class:`ScheduleSpec`: the only place that calls ``fit``.

A hand-written Optuna loop builds, compiles and traces a new model for every trial. Most of a
small trial's time is that framework overhead, so :class:`Trainer` keeps one compiled model
per optimizer kind and process and, for each trial,

* copies the weights of a freshly initialised model (same seed, same initialisers: the
  weights a fresh model would start from) into the compiled one,
* restores the optimizer's variables to their freshly built values (iterations, slots) and
  sets the learning rate (a variable, driven per epoch by the spec's callback) and the
  momentum (a variable too: :class:`~lrsearch.keras.VariableMomentumSGD`),
* trains a whole epoch per execution (``steps_per_execution`` = steps per epoch: the schedule
  changes per epoch, so no per-step Python is needed), shuffling with the trial's seed,
* validates in one large batch (inference only).

A spec with ``granularity="step"`` changes its rate every step inside the compiled loop: its
optimizer reads the rate from a table (:class:`~lrsearch.keras.ReloadableStepSchedule`,
``schedule(step / steps_per_epoch)`` for every step of the budget), which each trial refills
with one assignment, so the compiled model (one per optimizer kind and granularity) is reused
the same way and trains as fast. ``plateau`` reacts per epoch whatever the granularity.

The data are converted to tensors once per process. ``reuse=False`` trains a fresh model per
trial with the same data pipeline and seeds; tests check that both give the same losses.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from lrsearch.data import Dataset
from lrsearch.models import build_for
from lrsearch.models import loss_and_metrics
from lrsearch.optimizers import uses_momentum
from lrsearch.space import ScheduleSpec

#: validation batches are inference only: larger batches cost no accuracy and save overhead
VALIDATION_BATCH = 1024


class Trainer:
    """Fits models of ``model`` on ``data``, one per :class:`ScheduleSpec`.

    Args:
        data: the dataset, already split.
        model: ``mlp``, ``cnn`` or ``path/file.py:build``.
        batch_size: training batch size.
        reuse: keep one compiled model per optimizer kind (fast); ``False`` builds, compiles
            and traces a fresh model per trial.
    """

    def __init__(
        self, data: Dataset, model: str, *, batch_size: int = 64, reuse: bool = True
    ) -> None:
        from lrsearch.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
        import tensorflow as tf

        self.data = data
        self.model = model
        self.batch_size = batch_size
        self.reuse = reuse
        self.steps_per_epoch = max(1, math.ceil(len(data.x_train) / batch_size))
        self._x = tf.constant(data.x_train)
        self._y = tf.constant(data.y_train)
        self._val = (
            tf.data.Dataset.from_tensor_slices((tf.constant(data.x_val), tf.constant(data.y_val)))
            .batch(min(VALIDATION_BATCH, max(1, len(data.x_val))))
            .cache()
        )
        self._compiled: dict[Any, tuple[keras.Model, list[np.ndarray]]] = {}

    def build(self, seed: int) -> keras.Model:
        """A fresh uncompiled model, initialised from ``seed``."""
        keras.utils.set_random_seed(seed)
        return build_for(self.model, self.data)

    def _train_data(self, seed: int) -> Any:
        import tensorflow as tf

        n = int(self._x.shape[0])
        return (
            tf.data.Dataset.from_tensor_slices((self._x, self._y))
            .shuffle(n, seed=seed, reshuffle_each_iteration=True)
            .batch(self.batch_size)
        )

    @staticmethod
    def _per_step(spec: ScheduleSpec) -> bool:
        return spec.granularity == "step" and spec.schedule is not None

    def _optimizer(self, spec: ScheduleSpec, epochs: int) -> keras.optimizers.Optimizer:
        if not self.reuse:
            n = self.steps_per_epoch if self._per_step(spec) else None
            return spec.build_optimizer(steps_per_epoch=n)
        from lrsearch.keras import ReloadableStepSchedule
        from lrsearch.keras import VariableMomentumSGD
        from lrsearch.keras import build_optimizer

        lr: Any = spec.initial_lr
        schedule = spec.schedule
        if self._per_step(spec) and schedule is not None:
            lr = ReloadableStepSchedule(schedule, self.steps_per_epoch, epochs)
        if uses_momentum(spec.optimizer):
            return VariableMomentumSGD(
                learning_rate=lr,
                momentum=spec.momentum,
                nesterov=spec.optimizer == "nesterov",
            )
        return build_optimizer(spec.optimizer, lr, momentum=spec.momentum)

    def _compile(self, model: keras.Model, spec: ScheduleSpec, epochs: int) -> keras.Model:
        loss, metrics = loss_and_metrics(model, self.data.task)
        model.compile(
            optimizer=self._optimizer(spec, epochs),
            loss=loss,
            metrics=metrics,
            steps_per_execution=self.steps_per_epoch,
        )
        return model

    def _model_for(self, spec: ScheduleSpec, seed: int, epochs: int = 1) -> keras.Model:
        """The compiled model for ``spec``'s optimizer, holding fresh weights for ``seed``."""
        if not self.reuse:
            keras.backend.clear_session()
            return self._compile(self.build(seed), spec, epochs)
        fresh = self.build(seed)
        per_step = self._per_step(spec)
        key = (spec.optimizer, "step", epochs) if per_step else spec.optimizer
        cached = self._compiled.get(key)
        if cached is None:
            model = self._compile(fresh, spec, epochs)
            model.optimizer.build(model.trainable_variables)
            state = [np.array(v) for v in model.optimizer.variables]
            self._compiled[key] = (model, state)
            return model
        model, state = cached
        for target, source in zip(model.variables, fresh.variables, strict=True):
            target.assign(source)
        for variable, value in zip(model.optimizer.variables, state, strict=True):
            variable.assign(value)
        schedule = spec.schedule
        if per_step and schedule is not None:
            model.optimizer._learning_rate.load(schedule)
        else:
            model.optimizer.learning_rate = spec.initial_lr
        if hasattr(model.optimizer, "set_momentum"):
            model.optimizer.set_momentum(spec.momentum)
        return model

    def fit(
        self,
        spec: ScheduleSpec,
        epochs: int,
        seed: int,
        callbacks: list[keras.callbacks.Callback] | None = None,
    ) -> dict[str, list[Any]]:
        """Train one model with ``spec`` for ``epochs`` epochs; return ``History.history``."""
        model = self._model_for(spec, seed, epochs)
        history = model.fit(
            self._train_data(seed),
            epochs=epochs,
            validation_data=self._val,
            callbacks=[*spec.callbacks(), *(callbacks or [])],
            shuffle=False,  # the dataset is shuffled with the trial's seed
            verbose=0,
        )
        return dict(history.history)
