"""An SGD whose momentum is a variable, so one compiled train step serves every trial."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


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
