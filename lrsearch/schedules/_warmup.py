"""Schedules with a warm-up: linear warm-up, warm-up + cosine, warm-up-stable-decay (WSD)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any
from typing import ClassVar

from lrsearch.schedules._base import Schedule
from lrsearch.schedules._base import check_at_least
from lrsearch.schedules._base import check_below
from lrsearch.schedules._base import check_non_negative
from lrsearch.schedules._base import check_positive
from lrsearch.schedules._math import MathOps


def _check_start(initial_lr: float, start_lr: float) -> None:
    check_positive("initial_lr", initial_lr)
    check_non_negative("start_lr", start_lr)
    check_below("start_lr", start_lr, "initial_lr", initial_lr, strict=False)


@dataclasses.dataclass(frozen=True)
class LinearWarmup(Schedule):
    """Linear warm-up from ``start_lr`` to ``initial_lr`` over ``warmup_epochs`` (W), then flat.

    ::

        t < W - 1: lr = start_lr + t * (initial_lr - start_lr) / (W - 1)
        otherwise: lr = initial_lr

    The Baeldung article's 0.005 -> 0.01 over 5 epochs gives 0.005, 0.00625, ..., 0.01 at t = 4.
    """

    family: ClassVar[str] = "linear_warmup"
    initial_lr: float
    start_lr: float
    warmup_epochs: float

    def validate(self) -> None:
        _check_start(self.initial_lr, self.start_lr)
        check_at_least("warmup_epochs", self.warmup_epochs, 1)

    def formula(self, t: Any, m: MathOps) -> Any:
        span = max(self.warmup_epochs - 1.0, 1.0)
        ramp = self.start_lr + t * (self.initial_lr - self.start_lr) / span
        return m.where(t < self.warmup_epochs - 1.0, ramp, t * 0.0 + self.initial_lr)


@dataclasses.dataclass(frozen=True)
class WarmupCosine(Schedule):
    """Linear warm-up to ``initial_lr``, then cosine decay to ``end_lr``.

    Keras' ``CosineDecay(start_lr, decay_epochs, alpha=end_lr / initial_lr,
    warmup_target=initial_lr, warmup_steps=warmup_epochs)``; ``decay_epochs`` counts after the
    warm-up::

        t = min(t, W + D)
        t < W:     lr = start_lr + (initial_lr - start_lr) * t / W
        otherwise: lr = end_lr + (initial_lr - end_lr) * 0.5 * (1 + cos(pi * (t - W) / D))
    """

    family: ClassVar[str] = "warmup_cosine"
    initial_lr: float
    start_lr: float
    warmup_epochs: float
    decay_epochs: float
    end_lr: float = 0.0

    def validate(self) -> None:
        _check_start(self.initial_lr, self.start_lr)
        check_positive("warmup_epochs", self.warmup_epochs)
        check_positive("decay_epochs", self.decay_epochs)
        check_non_negative("end_lr", self.end_lr)
        check_below("end_lr", self.end_lr, "initial_lr", self.initial_lr, strict=False)

    def formula(self, t: Any, m: MathOps) -> Any:
        w, d = self.warmup_epochs, self.decay_epochs
        t = m.minimum(t, w + d)
        warm = self.start_lr + (self.initial_lr - self.start_lr) * t / w
        frac = m.maximum(t - w, 0.0) / d
        decay = self.end_lr + (self.initial_lr - self.end_lr) * 0.5 * (1.0 + m.cos(math.pi * frac))
        return m.where(t < w, warm, decay)


@dataclasses.dataclass(frozen=True)
class WarmupStableDecay(Schedule):
    """Warm-up, stable, decay (WSD), W = warmup_epochs, D = decay_epochs, N = total_epochs.

    ::

        t < W:          lr = start_lr + (initial_lr - start_lr) * t / W
        t < N - D:      lr = initial_lr
        otherwise:      lr = initial_lr + (end_lr - initial_lr) * min(1, (t - (N - D)) / D)
    """

    family: ClassVar[str] = "wsd"
    initial_lr: float
    warmup_epochs: float
    decay_epochs: float
    total_epochs: float
    start_lr: float = 0.0
    end_lr: float = 0.0

    def validate(self) -> None:
        _check_start(self.initial_lr, self.start_lr)
        check_positive("warmup_epochs", self.warmup_epochs)
        check_positive("decay_epochs", self.decay_epochs)
        check_positive("total_epochs", self.total_epochs)
        check_at_least("total_epochs", self.total_epochs, self.warmup_epochs + self.decay_epochs)
        check_non_negative("end_lr", self.end_lr)
        check_below("end_lr", self.end_lr, "initial_lr", self.initial_lr, strict=False)

    def formula(self, t: Any, m: MathOps) -> Any:
        w, d = self.warmup_epochs, self.decay_epochs
        decay_start = self.total_epochs - d
        warm = self.start_lr + (self.initial_lr - self.start_lr) * t / w
        frac = m.minimum(1.0, m.maximum(t - decay_start, 0.0) / d)
        decay = self.initial_lr + (self.end_lr - self.initial_lr) * frac
        return m.where(t < w, warm, decay)
