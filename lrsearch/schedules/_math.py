"""A tiny math namespace so each schedule formula is written once.

Every schedule writes its formula against an object with the functions below. The pure-Python
namespace :data:`PY` evaluates it on floats; :mod:`lrsearch.keras` passes a namespace built on
``keras.ops`` so the same formula runs inside a compiled train step. ``where`` evaluates both
branches (as ``keras.ops.where`` does), so formulas keep both branches finite.
"""

from __future__ import annotations

import math
from typing import Any
from typing import Protocol


class MathOps(Protocol):
    """The operations a schedule formula may use."""

    def floor(self, x: Any) -> Any: ...
    def exp(self, x: Any) -> Any: ...
    def log(self, x: Any) -> Any: ...
    def cos(self, x: Any) -> Any: ...
    def abs(self, x: Any) -> Any: ...
    def minimum(self, a: Any, b: Any) -> Any: ...
    def maximum(self, a: Any, b: Any) -> Any: ...
    def power(self, a: Any, b: Any) -> Any: ...
    def where(self, cond: Any, a: Any, b: Any) -> Any: ...


class _PythonOps:
    """:class:`MathOps` on Python floats."""

    def floor(self, x: Any) -> Any:
        return float(math.floor(x))

    def exp(self, x: Any) -> Any:
        return math.exp(x)

    def log(self, x: Any) -> Any:
        return math.log(x)

    def cos(self, x: Any) -> Any:
        return math.cos(x)

    def abs(self, x: Any) -> Any:
        return abs(x)

    def minimum(self, a: Any, b: Any) -> Any:
        return min(a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return max(a, b)

    def power(self, a: Any, b: Any) -> Any:
        return float(a) ** b

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b


PY: MathOps = _PythonOps()
