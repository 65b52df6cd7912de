"""The pieces schedules are composed of, each written once (optax's ``join_schedules`` idea).

Every function takes the time ``t`` (or a fraction) and a :class:`MathOps` namespace, so the
same pieces run on Python floats and inside a compiled Keras train step::

    linear(a, b, f)          = a + (b - a) * f
    cos_anneal(a, b, f)      = b + (a - b) * 0.5 * (1 + cos(pi * f))      # a at f=0, b at f=1
    join(t, T, before, after) = before(t)      for t < T
                              = after(t - T)   for t >= T                 # optax.join_schedules
    warmup(t, a, b, W, after) = join(t, W, linear(a, b, t / W), after)    # a ramp, then `after`

``join`` evaluates both sides (``MathOps.where`` does), so it hands ``after`` a time clamped at
0: a schedule never sees a negative ``t``, and a ``W <= 0`` skips the ramp (no division by 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from lrsearch.schedules._math import MathOps

Piece = Callable[[Any], Any]


def linear(start: Any, end: Any, frac: Any) -> Any:
    """``start`` at ``frac = 0``, ``end`` at ``frac = 1``, a straight line between."""
    return start + (end - start) * frac


def cos_anneal(start: Any, end: Any, frac: Any, m: MathOps) -> Any:
    """Half a cosine from ``start`` (``frac = 0``) down (or up) to ``end`` (``frac = 1``).

    ``end + (start - end) * 0.5 * (1 + cos(pi * frac))``: Keras' ``CosineDecay`` and PyTorch's
    ``_annealing_cos`` alike.
    """
    return end + (start - end) * 0.5 * (1.0 + m.cos(math.pi * frac))


def join(
    t: Any, boundary: float, before: Piece, after: Piece, m: MathOps, *, closed: bool = False
) -> Any:
    """``before(t)`` for ``t < boundary``, then ``after(t - boundary)``: optax's join of two.

    ``closed=True`` gives ``before`` the boundary too (``t <= boundary``, PyTorch's phases).
    ``boundary`` is a number (a schedule parameter), not a tensor; where ``before`` has no time
    at all (``boundary <= 0``, or ``< 0`` when closed) only ``after`` is evaluated.
    """
    shifted = after(m.maximum(t - boundary, 0.0))
    if boundary < 0 or (boundary == 0 and not closed):
        return shifted
    return m.where(t <= boundary if closed else t < boundary, before(t), shifted)


def warmup(
    t: Any, start_lr: float, target_lr: float, warmup_epochs: float, after: Piece, m: MathOps
) -> Any:
    """A linear ramp from ``start_lr`` to ``target_lr`` over ``warmup_epochs``, then ``after``.

    ``t < W: start_lr + (target_lr - start_lr) * t / W``; ``t >= W: after(t - W)``. This is
    Keras' ``CosineDecay(warmup_steps=W, warmup_target=...)`` ramp; fractional ``t`` and ``W``
    work.
    """
    return join(
        t,
        warmup_epochs,
        lambda u: linear(start_lr, target_lr, u / warmup_epochs),
        after,
        m,
    )


__all__ = ["Piece", "cos_anneal", "join", "linear", "warmup"]
