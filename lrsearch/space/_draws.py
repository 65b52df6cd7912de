"""Where parameters come from: Optuna trials, KerasTuner hyperparameters, or a recorder.

Each class implements :class:`lrsearch.schedules.Draw` and applies the user's range
overrides (a ``(low, high)`` pair, a list of choices, or one fixed value) by parameter name.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from typing import Any

Override = Any  # (low, high) | list of choices | a fixed scalar


def _is_fixed(override: Override) -> bool:
    return not isinstance(override, (tuple, list))


@dataclasses.dataclass
class ParamInfo:
    """What a recorder saw of one parameter: its kind and default range or choices."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    low: Any = None
    high: Any = None
    log: bool = False
    choices: tuple[Any, ...] = ()


class _Overridden:
    """The user's overrides by parameter name, applied to a default range or choices."""

    def __init__(self, overrides: dict[str, Override]) -> None:
        self.overrides = overrides

    def _bounds(self, name: str, low: Any, high: Any) -> tuple[Any, Any, Any]:
        """``(fixed, low, high)``: ``fixed`` is the one value to use, or ``None``."""
        o = self.overrides.get(name)
        if o is None:
            return None, low, high
        if _is_fixed(o):
            return o, low, high
        return None, o[0], o[-1]

    def _choices(self, name: str, choices: Sequence[Any]) -> tuple[Any, list[Any]]:
        """``(fixed, options)``: ``fixed`` is the one value to use, or ``None``."""
        o = self.overrides.get(name)
        if o is not None and _is_fixed(o):
            return o, [o]
        return None, list(choices) if o is None else list(o)


class RecordingDraw(_Overridden):
    """Draws the low (or high) end of every range and records what was asked."""

    def __init__(self, overrides: dict[str, Override], end: str = "low") -> None:
        super().__init__(overrides)
        self.end = end
        self.seen: dict[str, ParamInfo] = {}

    def _pick(self, name: str, low: Any, high: Any) -> Any:
        fixed, low, high = self._bounds(name, low, high)
        if fixed is not None:
            return fixed
        return low if self.end == "low" else high

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        self.seen.setdefault(name, ParamInfo(name, "float", low, high, log))
        return float(self._pick(name, low, high))

    def int(self, name: str, low: int, high: int) -> int:
        self.seen.setdefault(name, ParamInfo(name, "int", low, high))
        return int(self._pick(name, low, high))

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.seen.setdefault(name, ParamInfo(name, "categorical", choices=tuple(choices)))
        _, options = self._choices(name, choices)
        return options[0] if self.end == "low" else options[-1]


class _Suggesting(_Overridden, abc.ABC):
    """Applies the overrides, then asks a tuning library for what is left to draw.

    ``_ONE_INT``: an integer range of one value is fixed, not drawn (KerasTuner's ``Int``
    refuses it); ``_ONE_CHOICE``: a single choice is used, not drawn (Optuna records nothing).
    """

    _ONE_INT = False
    _ONE_CHOICE = False

    def _fixed(self, name: str, value: Any) -> Any:
        """Record a fixed value where the library needs one (KerasTuner's ``Fixed``)."""
        return value

    @abc.abstractmethod
    def _float(self, name: str, low: float, high: float, log: bool) -> float:
        """Draw from the library (the subclass's job)."""

    @abc.abstractmethod
    def _int(self, name: str, low: int, high: int) -> int:
        """Draw from the library (the subclass's job)."""

    @abc.abstractmethod
    def _choice(self, name: str, options: list[Any]) -> Any:
        """Draw from the library (the subclass's job)."""

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        fixed, low, high = self._bounds(name, low, high)
        if fixed is not None:
            return float(self._fixed(name, float(fixed)))
        return float(self._float(name, float(low), float(high), log))

    def int(self, name: str, low: int, high: int) -> int:
        fixed, low, high = self._bounds(name, low, high)
        if fixed is None and self._ONE_INT and int(low) == int(high):
            fixed = low
        if fixed is not None:
            return int(self._fixed(name, int(fixed)))
        return int(self._int(name, int(low), int(high)))

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        fixed, options = self._choices(name, choices)
        if fixed is None and self._ONE_CHOICE and len(options) == 1:
            return options[0]
        if fixed is not None:
            return self._fixed(name, fixed)
        return self._choice(name, options)


class OptunaDraw(_Suggesting):
    """Suggests from an ``optuna.trial.Trial`` (the parameter name is the Optuna name)."""

    _ONE_CHOICE = True

    def __init__(self, trial: Any, overrides: dict[str, Override]) -> None:
        super().__init__(overrides)
        self.trial = trial

    def _float(self, name: str, low: float, high: float, log: bool) -> float:
        return float(self.trial.suggest_float(name, low, high, log=log))

    def _int(self, name: str, low: int, high: int) -> int:
        return int(self.trial.suggest_int(name, low, high))

    def _choice(self, name: str, options: list[Any]) -> Any:
        return self.trial.suggest_categorical(name, options)


class KerasTunerDraw(_Suggesting):
    """Draws from a ``keras_tuner.HyperParameters`` (within the caller's scopes)."""

    _ONE_INT = True

    def __init__(self, hp: Any, overrides: dict[str, Override]) -> None:
        super().__init__(overrides)
        self.hp = hp

    def _fixed(self, name: str, value: Any) -> Any:
        return self.hp.Fixed(name, value)

    def _float(self, name: str, low: float, high: float, log: bool) -> float:
        return float(self.hp.Float(name, low, high, sampling="log" if log else "linear"))

    def _int(self, name: str, low: int, high: int) -> int:
        return int(self.hp.Int(name, low, high))

    def _choice(self, name: str, options: list[Any]) -> Any:
        return self.hp.Choice(name, options)
