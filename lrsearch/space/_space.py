"""``SearchSpace``: schedule families and their parameters as one conditional search space."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from lrsearch.checks import is_number
from lrsearch.optimizers import OPTIMIZERS
from lrsearch.optimizers import check_optimizer
from lrsearch.optimizers import default_initial_lr
from lrsearch.optimizers import uses_momentum
from lrsearch.schedules import FAMILIES
from lrsearch.schedules import REGISTRY
from lrsearch.schedules import Draw
from lrsearch.schedules import check_family
from lrsearch.schedules import sample_warmup
from lrsearch.space._drawn import remember_drawn
from lrsearch.space._draws import KerasTunerDraw
from lrsearch.space._draws import OptunaDraw
from lrsearch.space._draws import ParamInfo
from lrsearch.space._draws import RecordingDraw
from lrsearch.space._spec import GRANULARITIES
from lrsearch.space._spec import ScheduleSpec

DEFAULT_MOMENTUM = (0.0, 0.99)
_SHARED = ("initial_lr", "momentum")

#: one optimizer's ``initial_lr``: a ``(low, high)`` range (log-uniform) or one fixed value
LrRange = tuple[float, float] | float


def _jsonable_lr(value: LrRange) -> list[float] | float:
    return value if isinstance(value, float) else list(value)


def _as_tuple(name: str, value: Any) -> tuple[Any, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, Iterable):
        return tuple(value)
    raise ValueError(f"Argument `{name}` must be a sequence of names. Received: {name}={value!r}")


class SearchSpace:
    """Schedule families, their parameters, ``initial_lr``, optimizer and momentum.

    Args:
        families: names from :data:`lrsearch.schedules.FAMILIES`; ``None`` means all.
        initial_lr: the ``initial_lr`` range, searched log-uniformly. ``None`` (default): each
            optimizer its own default range (:data:`lrsearch.optimizers.DEFAULT_INITIAL_LR`:
            sgd and nesterov 1e-4..1, adam and rmsprop 1e-5..1e-1, adagrad 1e-3..1, adadelta
            1e-2..10). ``(low, high)`` (or one fixed value): the same for every optimizer
            searched. A mapping ``{"adam": (1e-5, 1e-2), ...}``: those optimizers' ranges (or
            fixed values), the others keep their defaults; every key must be among
            ``optimizers``. The Optuna parameter is ``initial_lr`` whatever the optimizer.
        optimizers: names among sgd, nesterov, adam, rmsprop, adagrad, adadelta; the
            ``optimizer`` parameter is only searched when there are several.
        epochs: the training budget per trial; ranges such as ``epochs_drop`` or
            ``warmup_epochs`` scale with it, and ``decay_epochs`` / ``total_epochs`` equal it.
        warmup: ``False`` (default): families draw only their own parameters. ``True``: every
            family without a warm-up of its own (``REGISTRY[name].optional_warmup``: constant,
            time_based, step, exponential, polynomial, cosine, cyclical, cosine_restarts) also
            draws a linear warm-up, ``warmup_epochs`` and ``start_lr = initial_lr *
            start_lr_factor``: the same Optuna parameters, with the same distributions, as
            ``linear_warmup``'s, so the ``warmup_epochs`` range (default 1..max(2, E/4))
            applies to every family. The family's own formula starts after the warm-up; a
            ``decay_epochs`` that fills the budget (polynomial, cosine) becomes ``E -
            warmup_epochs``, so the decay still ends with the budget (as ``warmup_cosine``).
        granularity: ``"epoch"`` (default) or ``"step"``: the ``granularity`` of every drawn
            :class:`ScheduleSpec` (the rate changes once per epoch, or every step at the
            fractional epoch).
        **ranges: a parameter's range by name: ``(low, high)``, a list of choices for a
            categorical (``mode=["triangular"]``), or one value to fix it (``k=0.1``).
            ``momentum`` defaults to ``(0.0, 0.99)``.

    The Optuna parameters are ``family``, ``initial_lr``, ``optimizer`` (when several),
    ``momentum`` (for sgd and nesterov), and the drawn family's own parameters only. Default
    ranges (``E`` = epochs): ``decay`` 1e-3..1 (log), ``drop_rate`` 0.1..0.9, ``epochs_drop``
    1..E/2, ``k`` 1e-3..0.5 (log), ``power`` 0.5..3, ``max_lr_factor`` 2..20 (log; ``max_lr =
    initial_lr * max_lr_factor``), ``step_size`` 1..E/4, ``mode`` triangular / triangular2 /
    exp_range, ``gamma`` 0.8..1, ``start_lr_factor`` 0.01..0.5 (log; ``start_lr = initial_lr *
    start_lr_factor``), ``warmup_epochs`` 1..max(2, E/4), ``factor`` 0.1..0.7, ``patience``
    1..E/4, ``pct_start`` 0.1..0.5, ``div_factor`` 5..50 (log), ``first_decay_epochs`` 1..E/2,
    ``t_mul`` 1..3, ``m_mul`` 0.5..1, ``decay_fraction`` 0.1..0.5 (WSD's share of decay).

    Raises:
        ValueError: unknown family, optimizer or parameter name; a range whose low >= high;
            non-positive learning-rate bounds; an ``initial_lr`` mapping naming an optimizer
            that is not searched; ranges that make a schedule invalid.
    """

    def __init__(
        self,
        families: Sequence[str] | str | None = None,
        initial_lr: LrRange | Mapping[str, LrRange] | None = None,
        optimizers: Sequence[str] | str = ("sgd",),
        epochs: int = 20,
        *,
        warmup: bool = False,
        granularity: str = "epoch",
        **ranges: Any,
    ) -> None:
        fams = FAMILIES if families is None else _as_tuple("families", families)
        if not fams:
            raise ValueError("Argument `families` must name at least one family. Received: ()")
        for f in fams:
            check_family(f)
        opts = _as_tuple("optimizers", optimizers)
        if not opts:
            raise ValueError("Argument `optimizers` must name at least one optimizer.")
        for o in opts:
            check_optimizer(o)
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(
                f"Argument `epochs` must be an integer >= 1. Received: epochs={epochs!r}"
            )
        if not isinstance(warmup, bool):
            raise ValueError(
                f"Argument `warmup` must be True or False. Received: warmup={warmup!r}"
            )
        if granularity not in GRANULARITIES:
            raise ValueError(
                f"Argument `granularity` must be one of {', '.join(GRANULARITIES)}. "
                f"Received: granularity={granularity!r}"
            )
        self.warmup = warmup
        self.granularity = granularity
        self.families: tuple[str, ...] = tuple(dict.fromkeys(fams))
        self.optimizers: tuple[str, ...] = tuple(dict.fromkeys(opts))
        self.epochs = epochs
        #: optimizer searched -> its ``initial_lr`` range (or fixed value)
        self.initial_lr_ranges: dict[str, LrRange] = self._check_lrs(initial_lr)
        self.ranges: dict[str, Any] = {"momentum": DEFAULT_MOMENTUM, **ranges}
        self._params = self._collect_params()
        self._check_ranges()

    # -- validation -----------------------------------------------------------------------

    @property
    def initial_lr(self) -> LrRange | dict[str, LrRange]:
        """The ``initial_lr`` range shared by every optimizer searched, else the mapping."""
        values = list(self.initial_lr_ranges.values())
        if all(v == values[0] for v in values):
            return values[0]
        return dict(self.initial_lr_ranges)

    def _check_lrs(self, value: Any) -> dict[str, LrRange]:
        if value is None:
            return {o: default_initial_lr(o) for o in self.optimizers}
        if not isinstance(value, Mapping):
            lr = self._check_lr(value)
            return dict.fromkeys(self.optimizers, lr)
        out: dict[str, LrRange] = {o: default_initial_lr(o) for o in self.optimizers}
        for name, lr in value.items():
            try:
                check_optimizer(name)
            except ValueError as exc:
                raise ValueError(
                    f"Argument `initial_lr` names an unknown optimizer: {exc} Give ranges by "
                    "optimizer name, e.g. initial_lr={'adam': (1e-5, 1e-2)}."
                ) from None
            if name not in self.optimizers:
                raise ValueError(
                    f"Argument `initial_lr` gives a range for optimizer {name!r}, which is not "
                    f"searched (optimizers={list(self.optimizers)}). Add {name!r} to "
                    "`optimizers`, or leave it out of `initial_lr`."
                )
            out[name] = self._check_lr(lr, f"initial_lr[{name!r}]")
        return out

    @staticmethod
    def _check_lr(value: Any, name: str = "initial_lr") -> LrRange:
        if is_number(value):
            if value <= 0:
                raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")
            return float(value)
        pair = tuple(value) if isinstance(value, (tuple, list)) else ()
        if len(pair) != 2 or not all(is_number(v) for v in pair):
            what = (
                "a (low, high) pair of positive numbers, one fixed value, or a mapping "
                "optimizer -> (low, high)"
                if name == "initial_lr"
                else "a (low, high) pair of positive numbers or one fixed value"
            )
            raise ValueError(f"Argument `{name}` must be {what}. Received: {name}={value!r}")
        low, high = float(pair[0]), float(pair[1])
        if low <= 0 or high <= 0:
            raise ValueError(f"Argument `{name}` bounds must be > 0. Received: {name}={value!r}")
        if low >= high:
            raise ValueError(f"Argument `{name}` must have low < high. Received: {name}={value!r}")
        return (low, high)

    def _collect_params(self) -> dict[str, ParamInfo]:
        seen: dict[str, ParamInfo] = {}
        for family in FAMILIES:
            rec = RecordingDraw({})
            REGISTRY[family].sample(rec, 0.1, self.epochs)
            if family == "cyclical":  # gamma exists only under mode=exp_range
                rec.categorical("mode", ["exp_range"])
                rec.float("gamma", 0.8, 1.0)
            for name, info in rec.seen.items():
                seen.setdefault(name, info)
        seen["momentum"] = ParamInfo("momentum", "float", *DEFAULT_MOMENTUM)
        return seen

    def _check_ranges(self) -> None:
        for name, value in self.ranges.items():
            if name not in self._params:
                valid = ", ".join(sorted(self._params))
                raise ValueError(
                    f"Unknown parameter `{name}` in the search ranges. Valid parameters: {valid} "
                    "(`initial_lr`, `families`, `optimizers` and `epochs` are arguments of their "
                    "own)."
                )
            info = self._params[name]
            if info.kind == "categorical":
                options = [value] if not isinstance(value, (tuple, list)) else list(value)
                bad = [o for o in options if o not in info.choices]
                if not options or bad:
                    raise ValueError(
                        f"Argument `{name}` must be chosen among "
                        f"{', '.join(map(str, info.choices))}. "
                        f"Received: {name}={value!r}"
                    )
                continue
            if isinstance(value, (tuple, list)):
                if len(value) != 2 or not all(is_number(v) for v in value):
                    raise ValueError(
                        f"Argument `{name}` must be a (low, high) pair of numbers or one number. "
                        f"Received: {name}={value!r}"
                    )
                if value[0] >= value[1]:
                    raise ValueError(
                        f"Argument `{name}` must have low < high. Received: {name}={value!r}"
                    )
                if info.kind == "int" and not all(float(v).is_integer() for v in value):
                    raise ValueError(
                        f"Argument `{name}` must be a pair of integers. Received: {name}={value!r}"
                    )
                if info.log and value[0] <= 0:
                    raise ValueError(
                        f"Argument `{name}` is searched on a log scale: its bounds must be > 0. "
                        f"Received: {name}={value!r}"
                    )
            elif not is_number(value):
                raise ValueError(
                    f"Argument `{name}` must be a (low, high) pair of numbers or one number. "
                    f"Received: {name}={value!r}"
                )
        momentum = self.ranges["momentum"]
        lows = momentum if isinstance(momentum, (tuple, list)) else (momentum, momentum)
        if not (0.0 <= float(lows[0]) and float(lows[-1]) < 1.0):
            raise ValueError(
                f"Argument `momentum` must lie in [0, 1). Received: momentum={momentum!r}"
            )
        # Every family must build at both ends of its ranges.
        for lr_range in dict.fromkeys(self.initial_lr_ranges.values()):
            lr_ends = (lr_range, lr_range) if isinstance(lr_range, float) else lr_range
            for family in self.families:
                for end, lr in zip(("low", "high"), lr_ends, strict=True):
                    rec = RecordingDraw(self.ranges, end=end)
                    try:
                        self._spec_from(rec, family, lr, self.optimizers[0], 0.0)
                    except ValueError as exc:
                        raise ValueError(
                            f"The search ranges make family {family!r} invalid at the {end} end "
                            f"of its ranges (initial_lr={lr:g}): {exc}"
                        ) from None

    # -- drawing --------------------------------------------------------------------------

    @property
    def param_names(self) -> tuple[str, ...]:
        """Every parameter name a range may be given for."""
        return tuple(sorted(self._params))

    def _spec_from(
        self, draw: Draw, family: str, initial_lr: float, optimizer: str, momentum: float
    ) -> ScheduleSpec:
        params = self._params_of(draw, family, initial_lr)
        return self._spec(family, params, optimizer, momentum)

    def _params_of(self, draw: Draw, family: str, initial_lr: float) -> dict[str, Any]:
        entry = REGISTRY[family]
        params = {"initial_lr": initial_lr, **entry.sample(draw, initial_lr, self.epochs)}
        if self.warmup and entry.optional_warmup:
            params.update(sample_warmup(draw, initial_lr, self.epochs))
            if params.get("decay_epochs") == self.epochs:  # a decay filling the budget
                params["decay_epochs"] = max(1, self.epochs - params["warmup_epochs"])
        return params

    def _spec(
        self, family: str, params: dict[str, Any], optimizer: str, momentum: float
    ) -> ScheduleSpec:
        return ScheduleSpec(
            family=family,
            params=params,
            optimizer=optimizer,
            momentum=momentum,
            granularity=self.granularity,
            epochs=self.epochs,
        )

    def suggest(self, trial: Any) -> ScheduleSpec:
        """Draw a :class:`ScheduleSpec` from an ``optuna.trial.Trial``.

        Parameters: ``family`` (categorical), ``optimizer`` (when several), ``initial_lr``
        (log-uniform, inside the drawn optimizer's range), ``momentum`` (sgd / nesterov), then
        the drawn family's own only.
        """
        draw = OptunaDraw(trial, self.ranges)
        # Always a parameter (even with one family), so study.best_params has ``family``.
        family = str(trial.suggest_categorical("family", list(self.families)))
        optimizer = draw.categorical("optimizer", self.optimizers)
        lr_range = self.initial_lr_ranges[optimizer]
        if isinstance(lr_range, float):
            lr = lr_range
        else:
            lr = float(trial.suggest_float("initial_lr", *lr_range, log=True))
        momentum = draw.float("momentum", *DEFAULT_MOMENTUM) if uses_momentum(optimizer) else 0.0
        return self._spec_from(draw, family, lr, optimizer, momentum)

    def from_hp(self, hp: Any) -> ScheduleSpec:
        """Draw a :class:`ScheduleSpec` from a ``keras_tuner.HyperParameters``.

        Same families and ranges as :meth:`suggest`; each family's parameters live in
        ``hp.conditional_scope("family", [name])`` and a name scope of the family, so they
        are active only when that family is drawn. When the optimizers searched have
        different ``initial_lr`` ranges, each has its own (``adam/initial_lr``, in a
        conditional scope on ``optimizer``); otherwise it is ``initial_lr``.
        """
        draw = KerasTunerDraw(hp, self.ranges)
        family = str(hp.Choice("family", list(self.families)))
        optimizer = str(hp.Choice("optimizer", list(self.optimizers)))
        lr_range = self.initial_lr_ranges[optimizer]
        if len(set(self.initial_lr_ranges.values())) == 1:
            lr = self._hp_initial_lr(hp, lr_range)
        else:
            # KerasTuner keeps one value per name, so ranges that differ by optimizer need a
            # name each: ``adam/initial_lr``, active only when that optimizer is drawn.
            with hp.conditional_scope("optimizer", [optimizer]), hp.name_scope(optimizer):
                lr = self._hp_initial_lr(hp, lr_range)
        momentum_opts = [o for o in self.optimizers if uses_momentum(o)]
        momentum = 0.0
        if momentum_opts and uses_momentum(optimizer):
            # Only drawn when active: in an inactive conditional scope KerasTuner returns None.
            with hp.conditional_scope("optimizer", momentum_opts):
                momentum = draw.float("momentum", *DEFAULT_MOMENTUM)
        with hp.conditional_scope("family", [family]), hp.name_scope(family):
            params = self._params_of(draw, family, lr)
        spec = self._spec(family, params, optimizer, momentum)
        remember_drawn(hp, spec)  # so a tuner can apply it (lrsearch.space.drawn_spec)
        return spec

    @staticmethod
    def _hp_initial_lr(hp: Any, lr_range: LrRange) -> float:
        if isinstance(lr_range, float):
            return float(hp.Fixed("initial_lr", lr_range))
        low, high = lr_range
        return float(hp.Float("initial_lr", low, high, sampling="log"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (stored in a study's user attributes).

        ``initial_lr`` is the range shared by every optimizer (a ``[low, high]`` list or one
        value), else a mapping optimizer -> range.
        """
        lr = self.initial_lr
        return {
            "families": list(self.families),
            "initial_lr": (
                {o: _jsonable_lr(v) for o, v in lr.items()}
                if isinstance(lr, dict)
                else _jsonable_lr(lr)
            ),
            "optimizers": list(self.optimizers),
            "epochs": self.epochs,
            "warmup": self.warmup,
            "granularity": self.granularity,
            "ranges": {k: list(v) if isinstance(v, tuple) else v for k, v in self.ranges.items()},
        }

    def __repr__(self) -> str:
        return (
            f"SearchSpace(families={list(self.families)}, initial_lr={self.initial_lr}, "
            f"optimizers={list(self.optimizers)}, epochs={self.epochs}, warmup={self.warmup}, "
            f"granularity={self.granularity!r})"
        )


__all__ = ["OPTIMIZERS", "SearchSpace"]
