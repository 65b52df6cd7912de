"""Where parameters come from: Optuna trials, KerasTuner hyperparameters, or a recorder.

Each class implements :class:`lrsearch.schedules.Draw` and applies the user's range
overrides (a ``(low, high)`` pair, a list of choices, or one fixed value) by parameter name.
"""

from __future__ import annotations

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


class RecordingDraw:
    """Draws the low (or high) end of every range and records what was asked."""

    def __init__(self, overrides: dict[str, Override], end: str = "low") -> None:
        self.overrides = overrides
        self.end = end
        self.seen: dict[str, ParamInfo] = {}

    def _pick(self, name: str, low: Any, high: Any) -> Any:
        o = self.overrides.get(name)
        if o is not None:
            if _is_fixed(o):
                return o
            low, high = o[0], o[-1]
        return low if self.end == "low" else high

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        self.seen.setdefault(name, ParamInfo(name, "float", low, high, log))
        return float(self._pick(name, low, high))

    def int(self, name: str, low: int, high: int) -> int:
        self.seen.setdefault(name, ParamInfo(name, "int", low, high))
        return int(self._pick(name, low, high))

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.seen.setdefault(name, ParamInfo(name, "categorical", choices=tuple(choices)))
        o = self.overrides.get(name)
        options = list(choices) if o is None else ([o] if _is_fixed(o) else list(o))
        return options[0] if self.end == "low" else options[-1]


class OptunaDraw:
    """Suggests from an ``optuna.trial.Trial`` (the parameter name is the Optuna name)."""

    def __init__(self, trial: Any, overrides: dict[str, Override]) -> None:
        self.trial = trial
        self.overrides = overrides

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        o = self.overrides.get(name)
        if o is not None and _is_fixed(o):
            return float(o)
        if o is not None:
            low, high = o
        return float(self.trial.suggest_float(name, low, high, log=log))

    def int(self, name: str, low: int, high: int) -> int:
        o = self.overrides.get(name)
        if o is not None and _is_fixed(o):
            return int(o)
        if o is not None:
            low, high = o
        return int(self.trial.suggest_int(name, int(low), int(high)))

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        o = self.overrides.get(name)
        if o is not None and _is_fixed(o):
            return o
        options = list(choices) if o is None else list(o)
        if len(options) == 1:
            return options[0]
        return self.trial.suggest_categorical(name, options)


class KerasTunerDraw:
    """Draws from a ``keras_tuner.HyperParameters`` (within the caller's scopes)."""

    def __init__(self, hp: Any, overrides: dict[str, Override]) -> None:
        self.hp = hp
        self.overrides = overrides

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        o = self.overrides.get(name)
        if o is not None and _is_fixed(o):
            return float(self.hp.Fixed(name, float(o)))
        if o is not None:
            low, high = o
        sampling = "log" if log else "linear"
        return float(self.hp.Float(name, float(low), float(high), sampling=sampling))

    def int(self, name: str, low: int, high: int) -> int:
        o = self.overrides.get(name)
        if o is not None and _is_fixed(o):
            return int(self.hp.Fixed(name, int(o)))
        if o is not None:
            low, high = o
        if int(low) == int(high):
            return int(self.hp.Fixed(name, int(low)))
        return int(self.hp.Int(name, int(low), int(high)))

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        o = self.overrides.get(name)
        if o is not None and _is_fixed(o):
            return self.hp.Fixed(name, o)
        options = list(choices) if o is None else list(o)
        return self.hp.Choice(name, options)
