"""Monotone decays: constant, time-based, step, exponential, polynomial and cosine.

Each also takes an optional linear warm-up (``warmup_epochs``, ``start_lr``; see
:class:`~lrsearch.schedules.WithWarmup`): the formulas below are the rate ``t`` epochs after it.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from typing import ClassVar

from lrsearch.schedules._base import WithWarmup
from lrsearch.schedules._base import check_at_least
from lrsearch.schedules._base import check_end_lr
from lrsearch.schedules._base import check_interval
from lrsearch.schedules._base import check_non_negative
from lrsearch.schedules._base import check_positive
from lrsearch.schedules._math import MathOps
from lrsearch.schedules._pieces import cos_anneal


@dataclasses.dataclass(frozen=True)
class Constant(WithWarmup):
    """``lr(t) = initial_lr``."""

    family: ClassVar[str] = "constant"

    def own_formula(self, t: Any, m: MathOps) -> Any:
        return t * 0.0 + self.initial_lr


@dataclasses.dataclass(frozen=True)
class TimeBased(WithWarmup):
    """``lr(t) = initial_lr / (1 + decay * t)``.

    Keras' ``InverseTimeDecay(initial_lr, decay_steps=1, decay_rate=decay)``; applied per batch
    it is the legacy ``decay`` argument of Keras 2 optimizers (0.1 with decay 0.01 gives 0.0286
    after 250 steps).
    """

    family: ClassVar[str] = "time_based"
    decay: float

    def validate(self) -> None:
        check_non_negative("decay", self.decay)

    def own_formula(self, t: Any, m: MathOps) -> Any:
        return self.initial_lr / (1.0 + self.decay * t)


@dataclasses.dataclass(frozen=True)
class Step(WithWarmup):
    """``lr(t) = initial_lr * drop_rate ** floor(t / epochs_drop)``."""

    family: ClassVar[str] = "step"
    drop_rate: float
    epochs_drop: float

    def validate(self) -> None:
        check_interval("drop_rate", self.drop_rate, 0.0, 1.0, low_open=True, high_open=False)
        check_at_least("epochs_drop", self.epochs_drop, 1)

    def own_formula(self, t: Any, m: MathOps) -> Any:
        return self.initial_lr * m.power(self.drop_rate, m.floor(t / self.epochs_drop))


@dataclasses.dataclass(frozen=True)
class Exponential(WithWarmup):
    """``lr(t) = initial_lr * exp(-k * t)``; Keras' ``ExponentialDecay(lr0, 1, exp(-k))``."""

    family: ClassVar[str] = "exponential"
    k: float

    def validate(self) -> None:
        check_non_negative("k", self.k)

    def own_formula(self, t: Any, m: MathOps) -> Any:
        return self.initial_lr * m.exp(-self.k * t)


@dataclasses.dataclass(frozen=True)
class Polynomial(WithWarmup):
    """``lr(t) = (initial_lr - end_lr) * (1 - min(t, T) / T) ** power + end_lr``, T = decay_epochs.

    Keras' ``PolynomialDecay(initial_lr, T, end_lr, power)``; ``power=1`` is linear decay.
    """

    family: ClassVar[str] = "polynomial"
    power: float
    decay_epochs: float
    end_lr: float = 0.0

    def validate(self) -> None:
        check_non_negative("power", self.power)
        check_positive("decay_epochs", self.decay_epochs)
        check_end_lr(self.end_lr, self.initial_lr)

    def own_formula(self, t: Any, m: MathOps) -> Any:
        frac = m.minimum(t, self.decay_epochs) / self.decay_epochs
        return (self.initial_lr - self.end_lr) * m.power(1.0 - frac, self.power) + self.end_lr


@dataclasses.dataclass(frozen=True)
class Cosine(WithWarmup):
    """``lr(t) = end_lr + (initial_lr - end_lr) * 0.5 * (1 + cos(pi * min(t, T) / T))``.

    Keras' ``CosineDecay(initial_lr, T, alpha=end_lr / initial_lr)``, T = decay_epochs. With a
    warm-up it is ``warmup_cosine`` (Keras' ``CosineDecay(..., warmup_steps=W)``).
    """

    family: ClassVar[str] = "cosine"
    decay_epochs: float
    end_lr: float = 0.0

    def validate(self) -> None:
        check_positive("decay_epochs", self.decay_epochs)
        check_end_lr(self.end_lr, self.initial_lr)

    def own_formula(self, t: Any, m: MathOps) -> Any:
        frac = m.minimum(t, self.decay_epochs) / self.decay_epochs
        return cos_anneal(self.initial_lr, self.end_lr, frac, m)
