"""What lets one compiled train step serve every trial: an SGD whose momentum is a variable,
and a per-step schedule read from a table of rates."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from lrsearch.keras._in_graph import InGraphSchedule
from lrsearch.schedules import MathOps
from lrsearch.schedules import Schedule
from lrsearch.schedules import from_config

NUMPY_OPS = MathOps(  # floor, exp, log, cos, abs, minimum, maximum, power, where
    np.floor, np.exp, np.log, np.cos, np.abs, np.minimum, np.maximum, np.power, np.where,
)  # fmt: skip
""":class:`lrsearch.schedules.MathOps` on NumPy arrays (a whole schedule in one call)."""


@keras.saving.register_keras_serializable(package="lrsearch")
class ReloadableStepSchedule(InGraphSchedule):
    """A per-step :class:`InGraphSchedule` whose schedule can change without a re-trace.

    The train step reads the rate from a table variable, ``lr = table[min(step, size - 1)]``,
    and :meth:`load` fills the table for the next trial with ``schedule.formula(step / n)``
    (``granularity="step"``; ``floor(step / n)`` for ``"epoch"``) for every step of the
    budget, evaluated at once with NumPy: the same rates as :class:`InGraphSchedule` (up to
    float32 rounding) for the cost of one assignment per trial. Steps past the table keep its
    last rate. Used by :class:`lrsearch.training.Trainer`.

    Args:
        schedule: the first schedule.
        steps_per_epoch: ``n``.
        epochs: the budget: the table holds ``epochs * n`` rates.
        granularity: ``"step"`` (default) or ``"epoch"``.
    """

    def __init__(
        self,
        schedule: Schedule,
        steps_per_epoch: int,
        epochs: int,
        granularity: str = "step",
    ) -> None:
        super().__init__(schedule, steps_per_epoch, granularity)
        self.size = max(1, int(epochs) * int(steps_per_epoch))
        self.table = keras.Variable(
            np.zeros(self.size, dtype="float32"), trainable=False, name="lr_table"
        )
        self.load(schedule)

    def rates(self, schedule: Schedule) -> np.ndarray:
        """The table's rates for ``schedule``: one per step of the budget."""
        t = np.arange(self.size, dtype="float64") / float(self.steps_per_epoch or 1)
        if self.granularity == "epoch":
            t = np.floor(t)
        with np.errstate(all="ignore"):
            lr = np.asarray(schedule.formula(t, NUMPY_OPS), dtype="float64")
        return np.broadcast_to(lr, t.shape).astype("float32")

    def load(self, schedule: Schedule) -> None:
        """Drive the following steps (counted from 0) with ``schedule``."""
        self.schedule = schedule
        self.table.assign(self.rates(schedule))

    def __call__(self, step: Any) -> Any:
        index = ops.minimum(ops.cast(step, "int32"), self.size - 1)
        return ops.take(self.table, index)

    def get_config(self) -> dict[str, Any]:
        """The loaded schedule, ``steps_per_epoch``, ``granularity`` and ``epochs`` (the
        table's size is ``epochs * steps_per_epoch``): a saved model reloads with the rates
        of the schedule loaded when it was saved."""
        return {**super().get_config(), "epochs": self.size // max(1, self.steps_per_epoch or 1)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ReloadableStepSchedule:
        return cls(
            from_config(config["schedule"]),
            int(config["steps_per_epoch"]),
            int(config["epochs"]),
            config.get("granularity", "step"),
        )


class VariableMomentumSGD(keras.optimizers.SGD):
    """Keras' ``SGD`` with ``momentum`` held in a variable instead of a Python float.

    Keras bakes a float momentum into the traced train step, so a new momentum would mean a
    new trace. Here the update is always the momentum form (Keras' own formula)::

        m = momentum * m - lr * g
        w = w + m                                   # nesterov: w = w + momentum * m - lr * g

    which with ``momentum = 0`` is exactly plain SGD (``m = -lr * g``). Set the momentum of the
    next trial with :meth:`set_momentum`; no re-trace happens.
    """

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, **kwargs: Any):
        super().__init__(learning_rate=learning_rate, momentum=0.5, **kwargs)
        self._initial_momentum = float(momentum)

    def build(self, variables: list[Any]) -> None:
        if self.built:
            return
        super().build(variables)  # creates self.momentums (momentum != 0 at construction)
        self.momentum_value = self.add_variable(
            shape=(), initializer="zeros", dtype="float32", name="momentum_value"
        )
        self.momentum_value.assign(self._initial_momentum)

    def set_momentum(self, momentum: float) -> None:
        """The momentum of the following steps."""
        self.momentum_value.assign(float(momentum))

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        momentum = ops.cast(self.momentum_value, variable.dtype)
        self.assign(
            m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate))
        )
        if self.nesterov:
            self.assign_add(
                variable,
                ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)),
            )
        else:
            self.assign_add(variable, m)
