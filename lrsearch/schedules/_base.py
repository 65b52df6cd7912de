"""The :class:`Schedule` base class and the argument checks shared by every family."""

from __future__ import annotations

import abc
import dataclasses
import math
import numbers
from typing import Any
from typing import ClassVar

from lrsearch.schedules._math import PY
from lrsearch.schedules._math import MathOps


@dataclasses.dataclass(frozen=True)
class Schedule(abc.ABC):
    """A learning rate as a pure function of a 0-based time index ``t``.

    ``t`` is the epoch index when the schedule is applied per epoch, or the step index counted
    from the start of training when it is applied per batch. Subclasses are frozen dataclasses
    whose fields are exactly the family's parameters; they validate in ``__post_init__`` and
    implement :meth:`formula` once, against a :class:`MathOps` namespace, so the same formula
    serves Python floats and compiled Keras graphs.
    """

    family: ClassVar[str] = ""

    def __call__(self, t: float) -> float:
        if not isinstance(t, numbers.Real) or isinstance(t, bool) or t < 0 or math.isnan(t):
            raise ValueError(f"Argument `t` must be a number >= 0. Received: t={t!r}")
        return float(self.formula(float(t), PY))

    @abc.abstractmethod
    def formula(self, t: Any, m: MathOps) -> Any:
        """Return the learning rate at time ``t`` using the operations of ``m``."""

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable constructor arguments, plus ``family``."""
        return {"family": self.family, **dataclasses.asdict(self)}

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # numpy scalars -> plain numbers (JSON configs)
            value = getattr(self, f.name)
            if isinstance(value, numbers.Integral) and not isinstance(value, (bool, int)):
                object.__setattr__(self, f.name, int(value))
            elif isinstance(value, numbers.Real) and not isinstance(value, (bool, int, float)):
                object.__setattr__(self, f.name, float(value))
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` on a bad argument (overridden per family)."""


def _name_value(name: str, value: Any) -> str:
    return f"Received: {name}={value!r}"


def check_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ValueError(f"Argument `{name}` must be a number. {_name_value(name, value)}")
    if math.isinf(value):
        raise ValueError(f"Argument `{name}` must be finite. {_name_value(name, value)}")
    return float(value)


def check_positive(name: str, value: Any) -> None:
    if check_number(name, value) <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. {_name_value(name, value)}")


def check_non_negative(name: str, value: Any) -> None:
    if check_number(name, value) < 0:
        raise ValueError(f"Argument `{name}` must be >= 0. {_name_value(name, value)}")


def check_at_least(name: str, value: Any, low: float) -> None:
    if check_number(name, value) < low:
        raise ValueError(f"Argument `{name}` must be >= {low:g}. {_name_value(name, value)}")


def check_interval(
    name: str, value: Any, low: float, high: float, *, low_open: bool, high_open: bool
) -> None:
    v = check_number(name, value)
    bad_low = v <= low if low_open else v < low
    bad_high = v >= high if high_open else v > high
    if bad_low or bad_high:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"Argument `{name}` must be in {interval}. {_name_value(name, value)}")


def check_below(name: str, value: Any, other: str, other_value: float, *, strict: bool) -> None:
    v = check_number(name, value)
    if (v >= other_value) if strict else (v > other_value):
        rel = "<" if strict else "<="
        raise ValueError(
            f"Argument `{name}` must be {rel} `{other}` ({other_value:g}). "
            f"{_name_value(name, value)}"
        )
