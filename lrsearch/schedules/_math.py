"""A tiny math namespace so each schedule formula is written once.

Every schedule writes its formula against an object with the functions below. The pure-Python
namespace :data:`PY` evaluates it on floats; :mod:`lrsearch.keras` passes a namespace built on
``keras.ops`` so the same formula runs inside a compiled train step. ``where`` evaluates both
branches (as ``keras.ops.where`` does), so formulas keep both branches finite.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class MathOps:
    """The operations a schedule formula may use, as functions of one namespace."""

    floor: Callable[[Any], Any]
    exp: Callable[[Any], Any]
    log: Callable[[Any], Any]
    cos: Callable[[Any], Any]
    abs: Callable[[Any], Any]
    minimum: Callable[[Any, Any], Any]
    maximum: Callable[[Any, Any], Any]
    power: Callable[[Any, Any], Any]
    where: Callable[[Any, Any, Any], Any]


PY = MathOps(  # floor, exp, log, cos, abs, minimum, maximum, power, where
    lambda x: float(math.floor(x)), math.exp, math.log, math.cos, abs, min, max,
    lambda a, b: float(a) ** b, lambda cond, a, b: a if cond else b,
)  # fmt: skip
