"""The one registry of schedule families.

Each :class:`Family` says which :class:`Schedule` class computes it (``None`` for ``plateau``,
which reacts to a metric: :attr:`Family.needs_metric`), how its parameters are searched for an
epoch budget, and the articles' default parameters. The schedule module, both tuner front
ends, the CLI, reports and the tests iterate :data:`REGISTRY`; adding a family is adding one
entry.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Protocol

from lrsearch.checks import did_you_mean
from lrsearch.schedules._base import Schedule
from lrsearch.schedules._base import WithWarmup
from lrsearch.schedules._base import check_at_least
from lrsearch.schedules._base import check_interval
from lrsearch.schedules._base import check_non_negative
from lrsearch.schedules._base import check_positive
from lrsearch.schedules._cyclic import CYCLICAL_MODES
from lrsearch.schedules._cyclic import CosineRestarts
from lrsearch.schedules._cyclic import Cyclical
from lrsearch.schedules._cyclic import OneCycle
from lrsearch.schedules._decay import Constant
from lrsearch.schedules._decay import Cosine
from lrsearch.schedules._decay import Exponential
from lrsearch.schedules._decay import Polynomial
from lrsearch.schedules._decay import Step
from lrsearch.schedules._decay import TimeBased
from lrsearch.schedules._warmup import LinearWarmup
from lrsearch.schedules._warmup import WarmupCosine
from lrsearch.schedules._warmup import WarmupStableDecay


class Draw(Protocol):
    """Where a family's search parameters come from (an Optuna trial, KerasTuner, a recorder)."""

    def float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...
    def int(self, name: str, low: int, high: int) -> int: ...
    def categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


SampleFn = Callable[[Draw, float, int], dict[str, Any]]
DefaultsFn = Callable[[int], dict[str, Any]]


def _warmup_of(params: dict[str, Any]) -> float:
    return float(params.get("warmup_epochs", 0.0))


@dataclasses.dataclass(frozen=True)
class Family:
    """One schedule family.

    Attributes:
        name: the family's name, as used everywhere (``"step"``).
        schedule_cls: the :class:`Schedule` subclass, or ``None`` when the rate reacts to a
            monitored metric (``plateau``).
        sample: ``sample(draw, initial_lr, epochs) -> params`` draws the family's own search
            parameters (everything but ``initial_lr``) for a budget of ``epochs`` epochs.
        article_defaults: ``article_defaults(epochs) -> params`` (with ``initial_lr``): the
            setting the source articles use, for equal-budget comparisons.
        warmup_epochs: ``warmup_epochs(params) -> W``, the epochs spent warming up (0 if none);
            by default the ``warmup_epochs`` parameter.
    """

    name: str
    schedule_cls: type[Schedule] | None
    sample: SampleFn
    article_defaults: DefaultsFn
    warmup_epochs: Callable[[dict[str, Any]], float] = _warmup_of

    @property
    def needs_metric(self) -> bool:
        """``True`` when the rate reacts to ``val_loss`` (a callback, not a :class:`Schedule`)."""
        return self.schedule_cls is None

    @property
    def optional_warmup(self) -> bool:
        """``True`` when the family also takes ``warmup_epochs=0, start_lr=0.0`` (see
        :class:`WithWarmup`); ``False`` for ``plateau`` and the families with a warm-up of their
        own (``linear_warmup``, ``warmup_cosine``, ``wsd``, ``one_cycle``)."""
        return self.schedule_cls is not None and issubclass(self.schedule_cls, WithWarmup)


def _quarter(epochs: int) -> int:
    return max(1, epochs // 4)


def _warmup(d: Draw, epochs: int) -> int:
    return d.int("warmup_epochs", 1, max(2, _quarter(epochs)))


def sample_warmup(d: Draw, lr0: float, epochs: int) -> dict[str, Any]:
    """A linear warm-up's parameters: ``start_lr = lr0 * start_lr_factor`` (0.01..0.5, log)
    and ``warmup_epochs`` (1..max(2, epochs / 4)).

    The same draws, under the same names and distributions, as ``linear_warmup``'s own, so a
    warm-up drawn on any family (``SearchSpace(warmup=True)``) shares its Optuna parameters.
    """
    return {
        "start_lr": lr0 * d.float("start_lr_factor", 0.01, 0.5, log=True),
        "warmup_epochs": _warmup(d, epochs),
    }


def _sample_cyclical(d: Draw, lr0: float, epochs: int) -> dict[str, Any]:
    mode = d.categorical("mode", list(CYCLICAL_MODES))
    params: dict[str, Any] = {
        "max_lr": lr0 * d.float("max_lr_factor", 2.0, 20.0, log=True),
        "step_size": d.int("step_size", 1, _quarter(epochs)),
        "mode": mode,
    }
    if mode == "exp_range":
        params["gamma"] = d.float("gamma", 0.8, 1.0)
    return params


def _sample_wsd(d: Draw, lr0: float, epochs: int) -> dict[str, Any]:
    warm = _warmup(d, epochs)
    decay = max(1, round(d.float("decay_fraction", 0.1, 0.5) * epochs))
    return {
        "warmup_epochs": warm,
        "decay_epochs": decay,
        "total_epochs": max(epochs, warm + decay),
    }


def _sample_warmup_cosine(d: Draw, lr0: float, epochs: int) -> dict[str, Any]:
    params = sample_warmup(d, lr0, epochs)
    return {**params, "decay_epochs": max(1, epochs - params["warmup_epochs"])}


_FAMILIES: tuple[Family, ...] = (
    Family(
        "constant",
        Constant,
        lambda d, lr0, e: {},
        lambda e: {"initial_lr": 0.01},
    ),
    Family(
        "time_based",
        TimeBased,
        lambda d, lr0, e: {"decay": d.float("decay", 1e-3, 1.0, log=True)},
        lambda e: {"initial_lr": 0.5, "decay": 0.5 / e},
    ),
    Family(
        "step",
        Step,
        lambda d, lr0, e: {
            "drop_rate": d.float("drop_rate", 0.1, 0.9),
            "epochs_drop": d.int("epochs_drop", 1, max(1, e // 2)),
        },
        lambda e: {"initial_lr": 0.5, "drop_rate": 0.8, "epochs_drop": 10},
    ),
    Family(
        "exponential",
        Exponential,
        lambda d, lr0, e: {"k": d.float("k", 1e-3, 0.5, log=True)},
        lambda e: {"initial_lr": 0.5, "k": 0.1},
    ),
    Family(
        "polynomial",
        Polynomial,
        lambda d, lr0, e: {"power": d.float("power", 0.5, 3.0), "decay_epochs": e},
        lambda e: {"initial_lr": 0.5, "power": 1.0, "decay_epochs": e},
    ),
    Family(
        "cosine",
        Cosine,
        lambda d, lr0, e: {"decay_epochs": e},
        lambda e: {"initial_lr": 0.5, "decay_epochs": e},
    ),
    Family(
        "cyclical",
        Cyclical,
        _sample_cyclical,
        lambda e: {"initial_lr": 0.01, "max_lr": 0.1, "step_size": _quarter(e)},
    ),
    Family(
        "linear_warmup",
        LinearWarmup,
        sample_warmup,
        lambda e: {"initial_lr": 0.01, "start_lr": 0.005, "warmup_epochs": 5},
    ),
    Family(
        "plateau",
        None,
        lambda d, lr0, e: {
            "factor": d.float("factor", 0.1, 0.7),
            "patience": d.int("patience", 1, _quarter(e)),
        },
        lambda e: {"initial_lr": 0.5, "factor": 0.5, "patience": 2, "min_lr": 0.0},
    ),
    Family(
        "one_cycle",
        OneCycle,
        lambda d, lr0, e: {
            "total_epochs": max(2, e),
            "pct_start": d.float("pct_start", 0.1, 0.5),
            "div_factor": d.float("div_factor", 5.0, 50.0, log=True),
        },
        lambda e: {"initial_lr": 0.5, "total_epochs": max(2, e)},
        lambda params: float(params.get("pct_start", 0.3)) * float(params["total_epochs"]),
    ),
    Family(
        "cosine_restarts",
        CosineRestarts,
        lambda d, lr0, e: {
            "first_decay_epochs": d.int("first_decay_epochs", 1, max(1, e // 2)),
            "t_mul": d.float("t_mul", 1.0, 3.0),
            "m_mul": d.float("m_mul", 0.5, 1.0),
        },
        lambda e: {"initial_lr": 0.5, "first_decay_epochs": max(1, e // 4)},
    ),
    Family(
        "warmup_cosine",
        WarmupCosine,
        _sample_warmup_cosine,
        lambda e: {
            "initial_lr": 0.5,
            "start_lr": 0.0,
            "warmup_epochs": _quarter(e),
            "decay_epochs": max(1, e - _quarter(e)),
        },
    ),
    Family(
        "wsd",
        WarmupStableDecay,
        _sample_wsd,
        lambda e: {
            "initial_lr": 0.5,
            "warmup_epochs": _quarter(e),
            "decay_epochs": max(1, e // 5),
            "total_epochs": max(e, _quarter(e) + max(1, e // 5)),
        },
    ),
)

REGISTRY: dict[str, Family] = {f.name: f for f in _FAMILIES}
FAMILIES: tuple[str, ...] = tuple(REGISTRY)

PLATEAU_PARAMS = ("initial_lr", "factor", "patience", "min_lr")
PLATEAU_DEFAULTS: dict[str, Any] = {"factor": 0.5, "patience": 2, "min_lr": 0.0}


#: parameters that count epochs: :func:`scale_durations` stretches them to another budget
DURATION_PARAMS: tuple[str, ...] = (
    "epochs_drop",
    "decay_epochs",
    "total_epochs",
    "step_size",
    "warmup_epochs",
    "first_decay_epochs",
    "patience",
)


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def scale_durations(family: str, params: dict[str, Any], factor: float) -> dict[str, Any]:
    """``params`` with every duration (:data:`DURATION_PARAMS`) multiplied by ``factor``.

    ::

        whole number d > 0: max(1, round(d * factor))     # halves round up
        fractional d:       d * factor
        d == 0:             0                             # no warm-up stays none

    Rates and shapes (``initial_lr``, ``drop_rate``, ``pct_start``, ...) are unchanged. Where
    rounding would break a family's own rule, the total gives way: ``wsd``'s ``total_epochs``
    is at least ``warmup_epochs + decay_epochs``, ``one_cycle``'s at least 2.
    """
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not factor > 0:
        raise ValueError(f"Argument `factor` must be > 0. Received: factor={factor!r}")
    out = dict(params)
    for name in DURATION_PARAMS:
        value = out.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0:
            continue
        if float(value).is_integer():
            out[name] = max(1, _half_up(float(value) * factor))
        else:
            out[name] = float(value) * factor
    if family == "wsd":
        out["total_epochs"] = max(out["total_epochs"], out["warmup_epochs"] + out["decay_epochs"])
    elif family == "one_cycle":
        out["total_epochs"] = max(2, out["total_epochs"])
    return out


def check_family(family: Any) -> Family:
    """Return the registry entry of ``family`` or raise ``ValueError`` naming the choices."""
    if not isinstance(family, str) or family not in REGISTRY:
        hint = did_you_mean(family, FAMILIES) if isinstance(family, str) else ""
        raise ValueError(
            f"Unknown schedule family: {family!r}.{hint} Valid families: {', '.join(FAMILIES)}."
        )
    return REGISTRY[family]


def validate_plateau(params: dict[str, Any]) -> dict[str, Any]:
    """Check the parameters of ``plateau`` (a callback, not a :class:`Schedule`).

    Returns the parameters completed with their defaults (``factor=0.5, patience=2,
    min_lr=0``). The rate starts at ``initial_lr`` and is multiplied by ``factor`` whenever
    ``val_loss`` has not improved for ``patience`` epochs, never going below ``min_lr``.
    """
    _check_names("plateau", params, PLATEAU_PARAMS, required=("initial_lr",))
    full = {**PLATEAU_DEFAULTS, **params}
    check_positive("initial_lr", full["initial_lr"])
    check_interval("factor", full["factor"], 0.0, 1.0, low_open=True, high_open=True)
    check_at_least("patience", full["patience"], 0)
    check_non_negative("min_lr", full["min_lr"])
    return full


def _check_names(
    family: str, params: dict[str, Any], valid: Sequence[str], required: Sequence[str]
) -> None:
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"Unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(f'`{u}`' for u in unknown)} for schedule family {family!r}. "
            f"Valid parameters: {', '.join(valid)}."
        )
    missing = [r for r in required if r not in params]
    if missing:
        raise ValueError(
            f"Missing parameter{'s' if len(missing) > 1 else ''} "
            f"{', '.join(f'`{m}`' for m in missing)} for schedule family {family!r}. "
            f"Required: {', '.join(required)}."
        )


def get(family: str, **params: Any) -> Schedule:
    """Build the :class:`Schedule` of ``family`` with ``params``.

    >>> get("step", initial_lr=0.5, drop_rate=0.8, epochs_drop=10)(25)
    0.32000000000000006

    Raises:
        ValueError: unknown family or parameter, a missing parameter, a bad value, or
            ``family="plateau"`` (a callback: see :class:`lrsearch.keras.PlateauCallback`).
    """
    entry = check_family(family)
    if entry.schedule_cls is None:
        raise ValueError(
            f"Schedule family {family!r} reacts to a monitored metric and is not a function of "
            "time: use `lrsearch.keras.PlateauCallback` (or `ScheduleSpec.callbacks()`)."
        )
    fields = [f for f in dataclasses.fields(entry.schedule_cls)]
    valid = [f.name for f in fields]
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    _check_names(family, params, valid, required)
    return entry.schedule_cls(**params)


def from_config(config: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.get_config` (``family`` plus the parameters)."""
    if not isinstance(config, dict) or "family" not in config:
        raise ValueError(
            f"Argument `config` must be a dict with a 'family' key. Received: config={config!r}"
        )
    params = dict(config)
    return get(params.pop("family"), **params)
