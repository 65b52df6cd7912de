"""Callbacks that drive the learning rate and record it in ``History``."""

from __future__ import annotations

from typing import Any

import keras

from lrsearch.checks import check_choice
from lrsearch.keras._in_graph import InGraphSchedule
from lrsearch.keras._in_graph import check_schedule_args
from lrsearch.schedules import Schedule
from lrsearch.schedules import validate_plateau

GRANULARITIES = ("epoch", "batch")


def _current_lr(optimizer: keras.optimizers.Optimizer) -> float:
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def _has_schedule_object(optimizer: keras.optimizers.Optimizer) -> bool:
    return isinstance(
        getattr(optimizer, "_learning_rate", None),
        keras.optimizers.schedules.LearningRateSchedule,
    )


class ScheduleCallback(keras.callbacks.Callback):
    """Apply a :class:`~lrsearch.schedules.Schedule` and record ``learning_rate`` per epoch.

    With ``granularity="epoch"`` the rate ``schedule(epoch)`` is set before each epoch; with
    ``"batch"`` the rate ``schedule(t)`` is set before each batch, ``t`` counting steps from the
    start of training (``epoch * steps_per_epoch + batch`` when ``steps_per_epoch`` is given).
    ``model.fit(...).history["learning_rate"]`` holds the rate the epoch's last step trained
    with (Keras 3 records none by itself): ``schedule(epoch)`` per epoch; with ``"batch"``,
    ``schedule(t)`` of the epoch's last batch, as the in-graph driver records it.

    One learning-rate driver: when the optimizer was built with
    :class:`~lrsearch.keras.InGraphSchedule` of the same schedule (``ScheduleSpec.
    build_optimizer(steps_per_epoch=...)``), the schedule already runs in the graph and this
    callback only records: the rate the epoch's last step trained with, read from the
    optimizer's schedule at that step (``schedule(e)`` per epoch; ``schedule(e + (n - 1) / n)``
    with ``granularity="step"`` and ``n`` steps per epoch). Any other schedule object raises
    ``ValueError`` at the start of training instead of Keras' ``TypeError`` in the middle of it.

    Example::

        schedule = lrsearch.schedules.get("step", initial_lr=0.5, drop_rate=0.8, epochs_drop=10)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="...")
        history = model.fit(x, y, epochs=30, callbacks=[ScheduleCallback(schedule)])
        history.history["learning_rate"]  # [0.5, 0.5, ..., 0.4, ...]
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> ScheduleCallback:
        granularity = kwargs.get("granularity", args[1] if len(args) > 1 else "epoch")
        if cls is ScheduleCallback and granularity == "batch":
            cls = _BatchScheduleCallback
        return super().__new__(cls)

    def __init__(
        self,
        schedule: Schedule,
        granularity: str = "epoch",
        steps_per_epoch: int | None = None,
    ) -> None:
        super().__init__()
        check_schedule_args(schedule, steps_per_epoch)
        check_choice("granularity", granularity, GRANULARITIES)
        self.schedule = schedule
        self.granularity = granularity
        self.steps_per_epoch = steps_per_epoch
        self._record_only = False
        self._start_iteration = 0
        self._epoch_step0 = 0
        self._epoch_lr = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        optimizer = self.model.optimizer
        self._record_only = _has_schedule_object(optimizer)
        if self._record_only:
            lr_obj = optimizer._learning_rate
            if not (isinstance(lr_obj, InGraphSchedule) and lr_obj.schedule == self.schedule):
                raise ValueError(
                    "The optimizer was built with a LearningRateSchedule object, so its learning "
                    "rate cannot be set by a callback (Keras raises TypeError). Build it with a "
                    "float learning rate, or use ScheduleSpec.build_optimizer() together with "
                    "ScheduleSpec.callbacks(), which always agree on one driver."
                )
        self._start_iteration = int(keras.ops.convert_to_numpy(optimizer.iterations))

    def _set(self, t: float) -> None:
        self.model.optimizer.learning_rate = self.schedule(t)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._record_only:  # the graph drives the rate; on_epoch_end reads it
            return
        if self.steps_per_epoch is not None:
            self._epoch_step0 = epoch * self.steps_per_epoch
        else:
            iterations = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            self._epoch_step0 = iterations - self._start_iteration
        self._set(epoch if self.granularity == "epoch" else self._epoch_step0)
        self._epoch_lr = _current_lr(self.model.optimizer)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._record_only:  # the rate of the epoch's last step, as the graph computed it
            optimizer = self.model.optimizer
            last = max(0, int(keras.ops.convert_to_numpy(optimizer.iterations)) - 1)
            self._epoch_lr = float(keras.ops.convert_to_numpy(optimizer._learning_rate(last)))
        if logs is not None:
            logs["learning_rate"] = self._epoch_lr


class _BatchScheduleCallback(ScheduleCallback):
    """:class:`ScheduleCallback` with ``granularity="batch"``: also sets the rate every batch.

    (A separate class so the per-epoch callback defines no batch hook and leaves Keras'
    asynchronous batch dispatch on.)
    """

    _last_t: int | None = None

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._record_only:
            self._set(self._epoch_step0 + batch)
            self._last_t = self._epoch_step0 + batch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        last = self._last_t
        if not self._record_only and last is not None:
            self._epoch_lr = float(self.schedule(last))  # the rate of the epoch's last step
        super().on_epoch_end(epoch, logs)


class PlateauCallback(keras.callbacks.ReduceLROnPlateau):
    """The ``plateau`` family: Keras' ``ReduceLROnPlateau`` starting from ``initial_lr``.

    ``lr`` starts at ``initial_lr`` and is multiplied by ``factor`` when ``monitor`` (default
    ``val_loss``) has not improved for ``patience`` epochs, never below ``min_lr``.
    ``History`` gets ``learning_rate``: the rate used in each epoch (before any reduction).
    Needs an optimizer with a float learning rate (raises ``ValueError`` otherwise).
    """

    def __init__(
        self,
        initial_lr: float,
        factor: float = 0.5,
        patience: int = 2,
        min_lr: float = 0.0,
        monitor: str = "val_loss",
        **kwargs: Any,
    ) -> None:
        full = validate_plateau(
            {"initial_lr": initial_lr, "factor": factor, "patience": patience, "min_lr": min_lr}
        )
        super().__init__(
            monitor=monitor,
            factor=full["factor"],
            patience=int(full["patience"]),
            min_lr=full["min_lr"],
            **kwargs,
        )
        self.initial_lr = float(full["initial_lr"])

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if _has_schedule_object(self.model.optimizer):
            raise ValueError(
                "The plateau family needs an optimizer with a float learning rate, but this one "
                "was built with a LearningRateSchedule object. Use ScheduleSpec.build_optimizer() "
                "without steps_per_epoch."
            )
        self.model.optimizer.learning_rate = self.initial_lr
        super().on_train_begin(logs)
