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
from lrsearch.schedules._pieces import warmup


@dataclasses.dataclass(frozen=True)
class Schedule(abc.ABC):
    """A learning rate as a pure function of a 0-based time index ``t``.

    ``t`` is the epoch index when the schedule is applied per epoch, or the step index counted
    from the start of training when it is applied per batch. Subclasses are frozen dataclasses
    whose fields are exactly the family's parameters, ``initial_lr`` first (lr0, the peak where
    the family has one); they validate in :meth:`validate` and implement :meth:`formula` once,
    against a :class:`MathOps` namespace, so the same formula serves Python floats and compiled
    Keras graphs.
    """

    family: ClassVar[str] = ""
    initial_lr: float

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
        check_positive("initial_lr", self.initial_lr)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` on a bad argument (overridden per family; ``initial_lr`` > 0 is
        checked before)."""


@dataclasses.dataclass(frozen=True)
class WithWarmup(Schedule):
    """A family that also takes an optional linear warm-up: ``warmup_epochs=0, start_lr=0.0``.

    ::

        t < W:  lr = start_lr + (initial_lr - start_lr) * t / W
        t >= W: lr = family(t - W)                  # the family's own formula, shifted by W

    Subclasses implement :meth:`own_formula` (the family's own ``lr(t)``) instead of
    :meth:`formula`. ``W = 0`` (the default) is the family unchanged; :meth:`get_config` lists
    ``warmup_epochs`` and ``start_lr`` only when they differ from their defaults, so configs
    written before the warm-up existed stay the same.
    """

    warmup_epochs: float = dataclasses.field(default=0.0, kw_only=True)
    start_lr: float = dataclasses.field(default=0.0, kw_only=True)

    WARMUP_DEFAULTS: ClassVar[dict[str, float]] = {"warmup_epochs": 0.0, "start_lr": 0.0}

    @abc.abstractmethod
    def own_formula(self, t: Any, m: MathOps) -> Any:
        """The family's own learning rate at ``t`` epochs after the warm-up."""

    def formula(self, t: Any, m: MathOps) -> Any:
        own = self.own_formula
        return warmup(
            t, self.start_lr, self.initial_lr, self.warmup_epochs, lambda u: own(u, m), m
        )

    def __post_init__(self) -> None:
        super().__post_init__()
        check_non_negative("warmup_epochs", self.warmup_epochs)
        check_start_lr(self.start_lr, self.initial_lr)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for name, default in self.WARMUP_DEFAULTS.items():
            if config[name] == default:
                del config[name]
        return config


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


def check_start_lr(start_lr: Any, initial_lr: float) -> None:
    """A warm-up's first rate: ``0 <= start_lr <= initial_lr`` (equal: no ramp at all)."""
    check_non_negative("start_lr", start_lr)
    check_below("start_lr", start_lr, "initial_lr", initial_lr, strict=False)


def check_end_lr(end_lr: Any, initial_lr: float) -> None:
    """A decay's last rate: ``0 <= end_lr <= initial_lr``."""
    check_non_negative("end_lr", end_lr)
    check_below("end_lr", end_lr, "initial_lr", initial_lr, strict=False)
