"""Schedules that rise and fall: cyclical (CLR), one-cycle and cosine with warm restarts.

``cyclical`` and ``cosine_restarts`` also take an optional linear warm-up (``warmup_epochs``,
``start_lr``; see :class:`~lrsearch.schedules.WithWarmup`); ``one_cycle`` has its own.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any
from typing import ClassVar

from lrsearch.schedules._base import Schedule
from lrsearch.schedules._base import WithWarmup
from lrsearch.schedules._base import check_at_least
from lrsearch.schedules._base import check_end_lr
from lrsearch.schedules._base import check_interval
from lrsearch.schedules._base import check_positive
from lrsearch.schedules._math import MathOps
from lrsearch.schedules._pieces import cos_anneal
from lrsearch.schedules._pieces import join

CYCLICAL_MODES = ("triangular", "triangular2", "exp_range")


@dataclasses.dataclass(frozen=True)
class Cyclical(WithWarmup):
    """Smith's cyclical learning rate (CLR) between ``initial_lr`` and ``max_lr``.

    ::

        c = floor(1 + t / (2 * step_size))
        x = abs(t / step_size - 2 * c + 1)
        base = max(0, 1 - x)
        triangular:  lr = initial_lr + (max_lr - initial_lr) * base
        triangular2: lr = initial_lr + (max_lr - initial_lr) * base / 2 ** (c - 1)
        exp_range:   lr = initial_lr + (max_lr - initial_lr) * base * gamma ** t
    """

    family: ClassVar[str] = "cyclical"
    max_lr: float
    step_size: float
    mode: str = "triangular"
    gamma: float = 1.0

    def validate(self) -> None:
        check_positive("max_lr", self.max_lr)
        if self.max_lr <= self.initial_lr:
            raise ValueError(
                f"Argument `max_lr` must be > `initial_lr` ({self.initial_lr:g}). "
                f"Received: max_lr={self.max_lr!r}"
            )
        check_positive("step_size", self.step_size)
        if self.mode not in CYCLICAL_MODES:
            raise ValueError(
                f"Argument `mode` must be one of {', '.join(CYCLICAL_MODES)}. "
                f"Received: mode={self.mode!r}"
            )
        check_interval("gamma", self.gamma, 0.0, 1.0, low_open=True, high_open=False)

    def own_formula(self, t: Any, m: MathOps) -> Any:
        s = self.step_size
        c = m.floor(1.0 + t / (2.0 * s))
        x = m.abs(t / s - 2.0 * c + 1.0)
        base = m.maximum(0.0, 1.0 - x)
        if self.mode == "triangular2":
            base = base / m.power(2.0, c - 1.0)
        elif self.mode == "exp_range":
            base = base * m.power(self.gamma, t)
        return self.initial_lr + (self.max_lr - self.initial_lr) * base


@dataclasses.dataclass(frozen=True)
class OneCycle(Schedule):
    """PyTorch's ``OneCycleLR`` (``anneal_strategy="cos"``, two phases), ``initial_lr`` = peak.

    ::

        start = initial_lr / div_factor;  final = start / final_div_factor
        e1 = pct_start * total_epochs - 1;  e2 = total_epochs - 1
        t <= e1:   lr = cos_anneal(start, initial_lr, t / e1)      # (start at t = e1 = 0)
        otherwise: lr = cos_anneal(initial_lr, final, min(t - e1, e2 - e1) / (e2 - e1))
        cos_anneal(a, b, p) = b + (a - b) / 2 * (cos(pi * p) + 1)

    Two half cosines joined at ``e1`` (both give ``initial_lr`` there).

    Past the last step PyTorch raises; here the rate stays at ``final``.
    """

    family: ClassVar[str] = "one_cycle"
    total_epochs: float
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4

    def validate(self) -> None:
        check_at_least("total_epochs", self.total_epochs, 2)
        check_interval("pct_start", self.pct_start, 0.0, 1.0, low_open=True, high_open=True)
        check_positive("div_factor", self.div_factor)
        check_positive("final_div_factor", self.final_div_factor)
        e1 = self.pct_start * self.total_epochs - 1.0
        if e1 >= self.total_epochs - 1.0:
            raise ValueError(
                "Argument `pct_start` must leave at least one step to anneal: "
                "pct_start * total_epochs < total_epochs. "
                f"Received: pct_start={self.pct_start!r}, total_epochs={self.total_epochs!r}"
            )

    def formula(self, t: Any, m: MathOps) -> Any:
        peak = self.initial_lr
        start = peak / self.div_factor
        final = start / self.final_div_factor
        e1 = self.pct_start * self.total_epochs - 1.0
        down = self.total_epochs - 1.0 - e1
        return join(
            t,
            e1,
            lambda u: cos_anneal(start, peak, u / e1 if e1 > 0 else u * 0.0, m),
            lambda u: cos_anneal(peak, final, m.minimum(u, down) / down, m),
            m,
            closed=True,
        )


@dataclasses.dataclass(frozen=True)
class CosineRestarts(WithWarmup):
    """SGDR: Keras' ``CosineDecayRestarts(initial_lr, first_decay_epochs, t_mul, m_mul, alpha)``.

    ::

        f = t / first_decay_epochs
        t_mul == 1: i = floor(f);  f = f - i
        otherwise:  i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))
                    f = (f - (1 - t_mul ** i) / (1 - t_mul)) / t_mul ** i
        alpha = end_lr / initial_lr
        lr = initial_lr * ((1 - alpha) * 0.5 * m_mul ** i * (1 + cos(pi * f)) + alpha)

    Cycle ``i`` is a half cosine from ``end_lr + (initial_lr - end_lr) * m_mul ** i`` down to
    ``end_lr``.
    """

    family: ClassVar[str] = "cosine_restarts"
    first_decay_epochs: float
    t_mul: float = 2.0
    m_mul: float = 1.0
    end_lr: float = 0.0

    def validate(self) -> None:
        check_positive("first_decay_epochs", self.first_decay_epochs)
        check_at_least("t_mul", self.t_mul, 1.0)
        check_interval("m_mul", self.m_mul, 0.0, 1.0, low_open=True, high_open=False)
        check_end_lr(self.end_lr, self.initial_lr)

    def own_formula(self, t: Any, m: MathOps) -> Any:
        f = t / self.first_decay_epochs
        if self.t_mul == 1.0:
            i = m.floor(f)
            f = f - i
        else:
            i = m.floor(m.log(1.0 - f * (1.0 - self.t_mul)) / math.log(self.t_mul))
            sum_r = (1.0 - m.power(self.t_mul, i)) / (1.0 - self.t_mul)
            f = (f - sum_r) / m.power(self.t_mul, i)
        peak = self.end_lr + (self.initial_lr - self.end_lr) * m.power(self.m_mul, i)
        return cos_anneal(peak, self.end_lr, f, m)


__all__ = ["CYCLICAL_MODES", "CosineRestarts", "Cyclical", "OneCycle"]
