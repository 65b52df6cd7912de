"""Monotone decays: constant, time-based, step, exponential, polynomial and cosine."""

from __future__ import annotations

import dataclasses
import math
from typing import Any
from typing import ClassVar

from lrsearch.schedules._base import Schedule
from lrsearch.schedules._base import check_at_least
from lrsearch.schedules._base import check_below
from lrsearch.schedules._base import check_interval
from lrsearch.schedules._base import check_non_negative
from lrsearch.schedules._base import check_positive
from lrsearch.schedules._math import MathOps


@dataclasses.dataclass(frozen=True)
class Constant(Schedule):
    """``lr(t) = initial_lr``."""

    family: ClassVar[str] = "constant"
    initial_lr: float

    def validate(self) -> None:
        check_positive("initial_lr", self.initial_lr)

    def formula(self, t: Any, m: MathOps) -> Any:
        return t * 0.0 + self.initial_lr


@dataclasses.dataclass(frozen=True)
class TimeBased(Schedule):
    """``lr(t) = initial_lr / (1 + decay * t)``.

    Keras' ``InverseTimeDecay(initial_lr, decay_steps=1, decay_rate=decay)``; applied per batch
    it is the legacy ``decay`` argument of Keras 2 optimizers (0.1 with decay 0.01 gives 0.0286
    after 250 steps).
    """

    family: ClassVar[str] = "time_based"
    initial_lr: float
    decay: float

    def validate(self) -> None:
        check_positive("initial_lr", self.initial_lr)
        check_non_negative("decay", self.decay)

    def formula(self, t: Any, m: MathOps) -> Any:
        return self.initial_lr / (1.0 + self.decay * t)


@dataclasses.dataclass(frozen=True)
class Step(Schedule):
    """``lr(t) = initial_lr * drop_rate ** floor(t / epochs_drop)``."""

    family: ClassVar[str] = "step"
    initial_lr: float
    drop_rate: float
    epochs_drop: float

    def validate(self) -> None:
        check_positive("initial_lr", self.initial_lr)
        check_interval("drop_rate", self.drop_rate, 0.0, 1.0, low_open=True, high_open=False)
        check_at_least("epochs_drop", self.epochs_drop, 1)

    def formula(self, t: Any, m: MathOps) -> Any:
        return self.initial_lr * m.power(self.drop_rate, m.floor(t / self.epochs_drop))


@dataclasses.dataclass(frozen=True)
class Exponential(Schedule):
    """``lr(t) = initial_lr * exp(-k * t)``; Keras' ``ExponentialDecay(lr0, 1, exp(-k))``."""

    family: ClassVar[str] = "exponential"
    initial_lr: float
    k: float

    def validate(self) -> None:
        check_positive("initial_lr", self.initial_lr)
        check_non_negative("k", self.k)

    def formula(self, t: Any, m: MathOps) -> Any:
        return self.initial_lr * m.exp(-self.k * t)


@dataclasses.dataclass(frozen=True)
class Polynomial(Schedule):
    """``lr(t) = (initial_lr - end_lr) * (1 - min(t, T) / T) ** power + end_lr``, T = decay_epochs.

    Keras' ``PolynomialDecay(initial_lr, T, end_lr, power)``; ``power=1`` is linear decay.
    """

    family: ClassVar[str] = "polynomial"
    initial_lr: float
    power: float
    decay_epochs: float
    end_lr: float = 0.0

    def validate(self) -> None:
        check_positive("initial_lr", self.initial_lr)
        check_non_negative("power", self.power)
        check_positive("decay_epochs", self.decay_epochs)
        check_non_negative("end_lr", self.end_lr)
        check_below("end_lr", self.end_lr, "initial_lr", self.initial_lr, strict=False)

    def formula(self, t: Any, m: MathOps) -> Any:
        frac = m.minimum(t, self.decay_epochs) / self.decay_epochs
        return (self.initial_lr - self.end_lr) * m.power(1.0 - frac, self.power) + self.end_lr


@dataclasses.dataclass(frozen=True)
class Cosine(Schedule):
    """``lr(t) = end_lr + (initial_lr - end_lr) * 0.5 * (1 + cos(pi * min(t, T) / T))``.

    Keras' ``CosineDecay(initial_lr, T, alpha=end_lr / initial_lr)``, T = decay_epochs.
    """

    family: ClassVar[str] = "cosine"
    initial_lr: float
    decay_epochs: float
    end_lr: float = 0.0

    def validate(self) -> None:
        check_positive("initial_lr", self.initial_lr)
        check_positive("decay_epochs", self.decay_epochs)
        check_non_negative("end_lr", self.end_lr)
        check_below("end_lr", self.end_lr, "initial_lr", self.initial_lr, strict=False)

    def formula(self, t: Any, m: MathOps) -> Any:
        frac = m.minimum(t, self.decay_epochs) / self.decay_epochs
        return self.end_lr + (self.initial_lr - self.end_lr) * 0.5 * (1.0 + m.cos(math.pi * frac))
