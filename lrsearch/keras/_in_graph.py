"""Schedules evaluated inside the compiled train step (no Python call per batch)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from lrsearch.checks import check_choice
from lrsearch.schedules import MathOps
from lrsearch.schedules import Schedule
from lrsearch.schedules import from_config

KERAS_OPS = MathOps(  # floor, exp, log, cos, abs, minimum, maximum, power, where
    ops.floor, ops.exp, ops.log, ops.cos, ops.abs, ops.minimum, ops.maximum,
    lambda a, b: ops.power(ops.cast(a, "float32"), ops.cast(b, "float32")), ops.where,
)  # fmt: skip
""":class:`lrsearch.schedules.MathOps` on ``keras.ops`` tensors."""


def check_schedule_args(schedule: Any, steps_per_epoch: Any) -> None:
    """``ValueError`` unless ``schedule`` is a Schedule and ``steps_per_epoch`` None or >= 1."""
    if not isinstance(schedule, Schedule):
        raise ValueError(
            "Argument `schedule` must be a lrsearch Schedule (see lrsearch.schedules.get). "
            f"Received: schedule={schedule!r}"
        )
    if steps_per_epoch is not None and (
        not isinstance(steps_per_epoch, int) or steps_per_epoch < 1
    ):
        raise ValueError(
            "Argument `steps_per_epoch` must be an integer >= 1 or None. "
            f"Received: steps_per_epoch={steps_per_epoch!r}"
        )


IN_GRAPH_GRANULARITIES = ("epoch", "step")


@keras.saving.register_keras_serializable(package="lrsearch")
class InGraphSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A :class:`~lrsearch.schedules.Schedule` as a Keras ``LearningRateSchedule``.

    The optimizer calls it with its step counter every step, inside the compiled train
    function, so a per-step schedule costs no Python call per batch::

        t = step                                   # steps_per_epoch is None: per step
        t = floor(step / steps_per_epoch)          # granularity="epoch": the epoch index
        t = step / steps_per_epoch                 # granularity="step": the fractional epoch
        lr = schedule.formula(t)                   # the same formula as schedule(t)

    An optimizer built with it has a learning rate that nothing may set (Keras raises
    ``TypeError``); :class:`lrsearch.keras.ScheduleCallback` recognises it and only records.

    Args:
        schedule: the schedule to evaluate.
        steps_per_epoch: when given, ``t`` counts epochs, so the schedule's parameters stay in
            epochs.
        granularity: with ``steps_per_epoch``, ``"epoch"`` (default) changes the rate once per
            epoch exactly as the per-epoch callback does; ``"step"`` changes it every step, at
            the fractional epoch ``step / steps_per_epoch`` (a warm-up ramps within epochs).
    """

    def __init__(
        self,
        schedule: Schedule,
        steps_per_epoch: int | None = None,
        granularity: str = "epoch",
    ) -> None:
        check_schedule_args(schedule, steps_per_epoch)
        check_choice("granularity", granularity, IN_GRAPH_GRANULARITIES)
        self.schedule = schedule
        self.steps_per_epoch = steps_per_epoch
        self.granularity = granularity

    def __call__(self, step: Any) -> Any:
        t = ops.cast(step, "float32")
        if self.steps_per_epoch is not None:
            t = t / float(self.steps_per_epoch)
            if self.granularity == "epoch":
                t = ops.floor(t)
        return ops.cast(self.schedule.formula(t, KERAS_OPS), "float32")

    def get_config(self) -> dict[str, Any]:
        return {
            "schedule": self.schedule.get_config(),
            "steps_per_epoch": self.steps_per_epoch,
            "granularity": self.granularity,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> InGraphSchedule:
        return cls(
            from_config(config["schedule"]),
            config.get("steps_per_epoch"),
            config.get("granularity", "epoch"),
        )
