"""Schedules with a warm-up of their own: linear warm-up, warm-up + cosine, WSD.

Each is a composition of the pieces of :mod:`lrsearch.schedules._pieces` (a linear ramp joined to
the schedule that follows it, shifted by the ramp's length), so none writes the ramp again:
``linear_warmup`` is ``constant`` behind a ramp, ``warmup_cosine`` is ``cosine`` behind one.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any
from typing import ClassVar

from lrsearch.schedules._base import Schedule
from lrsearch.schedules._base import check_at_least
from lrsearch.schedules._base import check_end_lr
from lrsearch.schedules._base import check_positive
from lrsearch.schedules._base import check_start_lr
from lrsearch.schedules._decay import Constant
from lrsearch.schedules._decay import Cosine
from lrsearch.schedules._math import MathOps
from lrsearch.schedules._pieces import join
from lrsearch.schedules._pieces import linear
from lrsearch.schedules._pieces import warmup


@dataclasses.dataclass(frozen=True)
class LinearWarmup(Schedule):
    """Linear warm-up from ``start_lr`` to ``initial_lr`` over ``warmup_epochs`` (W), then flat.

    ::

        t < W - 1: lr = start_lr + t * (initial_lr - start_lr) / (W - 1)
        otherwise: lr = initial_lr

    That is ``constant`` with a warm-up of ``W - 1`` epochs: the W-th epoch (t = W - 1) is the
    first at ``initial_lr``. The Baeldung article's 0.005 -> 0.01 over 5 epochs gives 0.005,
    0.00625, ..., 0.01 at t = 4.
    """

    family: ClassVar[str] = "linear_warmup"
    start_lr: float
    warmup_epochs: float

    def validate(self) -> None:
        check_start_lr(self.start_lr, self.initial_lr)
        check_at_least("warmup_epochs", self.warmup_epochs, 1)

    @functools.cached_property
    def _composed(self) -> Constant:
        return Constant(
            self.initial_lr, warmup_epochs=self.warmup_epochs - 1.0, start_lr=self.start_lr
        )

    def formula(self, t: Any, m: MathOps) -> Any:
        return self._composed.formula(t, m)


@dataclasses.dataclass(frozen=True)
class WarmupCosine(Schedule):
    """Linear warm-up to ``initial_lr``, then cosine decay to ``end_lr``: ``cosine`` with a ramp.

    Keras' ``CosineDecay(start_lr, decay_epochs, alpha=end_lr / initial_lr,
    warmup_target=initial_lr, warmup_steps=warmup_epochs)``; ``decay_epochs`` counts after the
    warm-up::

        t = min(t, W + D)
        t < W:     lr = start_lr + (initial_lr - start_lr) * t / W
        otherwise: lr = end_lr + (initial_lr - end_lr) * 0.5 * (1 + cos(pi * (t - W) / D))
    """

    family: ClassVar[str] = "warmup_cosine"
    start_lr: float
    warmup_epochs: float
    decay_epochs: float
    end_lr: float = 0.0

    def validate(self) -> None:
        check_start_lr(self.start_lr, self.initial_lr)
        check_positive("warmup_epochs", self.warmup_epochs)
        check_positive("decay_epochs", self.decay_epochs)
        check_end_lr(self.end_lr, self.initial_lr)

    @functools.cached_property
    def _composed(self) -> Cosine:
        return Cosine(
            self.initial_lr,
            self.decay_epochs,
            self.end_lr,
            warmup_epochs=self.warmup_epochs,
            start_lr=self.start_lr,
        )

    def formula(self, t: Any, m: MathOps) -> Any:
        return self._composed.formula(t, m)


@dataclasses.dataclass(frozen=True)
class WarmupStableDecay(Schedule):
    """Warm-up, stable, decay (WSD), W = warmup_epochs, D = decay_epochs, N = total_epochs.

    ::

        t < W:          lr = start_lr + (initial_lr - start_lr) * t / W
        t < N - D:      lr = initial_lr
        otherwise:      lr = initial_lr + (end_lr - initial_lr) * min(1, (t - (N - D)) / D)

    A ramp joined to (``initial_lr`` joined to a linear decay at ``N - D - W``).
    """

    family: ClassVar[str] = "wsd"
    warmup_epochs: float
    decay_epochs: float
    total_epochs: float
    start_lr: float = 0.0
    end_lr: float = 0.0

    def validate(self) -> None:
        check_start_lr(self.start_lr, self.initial_lr)
        check_positive("warmup_epochs", self.warmup_epochs)
        check_positive("decay_epochs", self.decay_epochs)
        check_positive("total_epochs", self.total_epochs)
        check_at_least("total_epochs", self.total_epochs, self.warmup_epochs + self.decay_epochs)
        check_end_lr(self.end_lr, self.initial_lr)

    def formula(self, t: Any, m: MathOps) -> Any:
        lr0, d = self.initial_lr, self.decay_epochs

        def stable_then_decay(u: Any) -> Any:
            return join(
                u,
                self.total_epochs - d - self.warmup_epochs,
                lambda v: v * 0.0 + lr0,
                lambda v: linear(lr0, self.end_lr, m.minimum(1.0, v / d)),
                m,
            )

        return warmup(t, self.start_lr, lr0, self.warmup_epochs, stable_then_decay, m)
