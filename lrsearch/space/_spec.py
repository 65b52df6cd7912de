"""``ScheduleSpec``: one drawn schedule + optimizer, ready for a user's ``model.fit``."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.optimizers import check_optimizer
from lrsearch.schedules import REGISTRY
from lrsearch.schedules import Schedule
from lrsearch.schedules import check_family
from lrsearch.schedules import get
from lrsearch.schedules import scale_durations
from lrsearch.schedules import validate_plateau

if TYPE_CHECKING:
    import keras

#: how often the rate changes: once per epoch, or every step at the fractional epoch
GRANULARITIES = ("epoch", "step")


@dataclasses.dataclass(frozen=True)
class ScheduleSpec:
    """A schedule family with its parameters and an optimizer: what a trial trains with.

    Attributes:
        family: the schedule family (see :data:`lrsearch.schedules.FAMILIES`).
        params: the family's parameters, including ``initial_lr``.
        optimizer: ``sgd``, ``nesterov``, ``adam``, ``rmsprop``, ``adagrad`` or ``adadelta``.
        momentum: used by ``sgd`` and ``nesterov``.
        granularity: ``"epoch"`` (default): the rate changes once per epoch, ``t`` the epoch
            index. ``"step"``: with ``build_optimizer(steps_per_epoch=n)`` the rate changes
            every step, evaluated inside the graph at the fractional epoch ``t = step / n``
            (the parameters still count epochs). ``plateau`` ignores it (it reacts per epoch).
        epochs: the budget (epochs) the spec was tuned for, or ``None``; :meth:`for_epochs`
            carries the spec to another budget. ``load_best`` sets it.

    Drop it into your own training::

        spec = lrsearch.load_best("sqlite:///studies/lrsearch.db", "lrsearch")
        model.compile(optimizer=spec.build_optimizer(), loss=..., metrics=[...])
        model.fit(x, y, epochs=..., validation_data=..., callbacks=spec.callbacks())

    With ``granularity="step"``, ``model.compile(optimizer=spec.build_optimizer(
    steps_per_epoch=math.ceil(len(x) / batch_size)), ...)``.
    """

    family: str
    params: dict[str, Any]
    optimizer: str = "sgd"
    momentum: float = 0.0
    granularity: str = "epoch"
    epochs: int | None = None

    def __post_init__(self) -> None:
        check_family(self.family)
        check_optimizer(self.optimizer)
        if not isinstance(self.params, dict):
            raise ValueError(f"Argument `params` must be a dict. Received: params={self.params!r}")
        m = self.momentum
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not 0.0 <= m < 1.0:
            raise ValueError(f"Argument `momentum` must be in [0, 1). Received: momentum={m!r}")
        if self.granularity not in GRANULARITIES:
            raise ValueError(
                f"Argument `granularity` must be one of {', '.join(GRANULARITIES)}. "
                f"Received: granularity={self.granularity!r}"
            )
        e = self.epochs
        if e is not None and (isinstance(e, bool) or not isinstance(e, int) or e < 1):
            raise ValueError(
                f"Argument `epochs` must be an integer >= 1 or None. Received: epochs={e!r}"
            )
        if self.family == "plateau":
            object.__setattr__(self, "params", validate_plateau(dict(self.params)))
        else:
            get(self.family, **self.params)  # validates

    @property
    def initial_lr(self) -> float:
        """The schedule's ``initial_lr`` (the peak for one-cycle and warm-up families)."""
        return float(self.params["initial_lr"])

    @property
    def schedule(self) -> Schedule | None:
        """The :class:`Schedule` of the epoch index, ``None`` for ``plateau``."""
        if self.family == "plateau":
            return None
        return get(self.family, **self.params)

    @property
    def driver(self) -> str:
        """``"callback"`` for ``plateau`` (it reacts to ``val_loss``), else ``"graph"`` capable."""
        return "callback" if self.family == "plateau" else "graph"

    @property
    def warmup_epochs(self) -> float:
        """Epochs spent warming up (0 for families without a warm-up)."""
        return float(REGISTRY[self.family].warmup_epochs(self.params))

    def learning_rates(self, epochs: int) -> list[float] | None:
        """``[schedule(0), ..., schedule(epochs - 1)]``, or ``None`` for ``plateau``."""
        schedule = self.schedule
        return None if schedule is None else [schedule(t) for t in range(epochs)]

    def build_optimizer(self, steps_per_epoch: int | None = None) -> keras.optimizers.Optimizer:
        """A fresh Keras optimizer with the spec's learning rate and momentum.

        Without ``steps_per_epoch`` the rate is a float (the callback driver: pair it with
        :meth:`callbacks`; it changes once per epoch whatever the granularity). With
        ``steps_per_epoch=n`` the schedule runs inside the graph
        (:class:`lrsearch.keras.InGraphSchedule`): ``t = floor(step / n)`` for
        ``granularity="epoch"``, ``t = step / n`` for ``"step"``; :meth:`callbacks` then only
        records the rate. ``plateau`` always gets a float rate.
        """
        from lrsearch.keras import InGraphSchedule
        from lrsearch.keras import build_optimizer

        schedule = self.schedule
        lr: Any = self.initial_lr
        if steps_per_epoch is not None and schedule is not None:
            lr = InGraphSchedule(
                schedule, steps_per_epoch=steps_per_epoch, granularity=self.granularity
            )
        elif schedule is not None:
            lr = schedule(0)
        return build_optimizer(self.optimizer, lr, momentum=self.momentum)

    def callbacks(self) -> list[keras.callbacks.Callback]:
        """The callbacks that apply the schedule each epoch and record ``learning_rate``.

        A :class:`lrsearch.keras.ScheduleCallback` (it only records when the optimizer came
        from ``build_optimizer(steps_per_epoch=...)``), or a
        :class:`lrsearch.keras.PlateauCallback` for ``plateau``. Recorded per epoch ``e``: the
        rate its last step trained with; with ``granularity="step"`` that is
        ``schedule(e + (n - 1) / n)`` (``n`` steps per epoch), otherwise ``schedule(e)``.
        """
        from lrsearch.keras import PlateauCallback
        from lrsearch.keras import ScheduleCallback

        schedule = self.schedule
        if schedule is None:
            return [PlateauCallback(**self.params)]
        return [ScheduleCallback(schedule)]

    def for_epochs(self, epochs: int) -> ScheduleSpec:
        """This spec carried to a budget of ``epochs`` epochs (tune short, train long).

        Every duration parameter (``epochs_drop``, ``decay_epochs``, ``total_epochs``,
        ``step_size``, ``warmup_epochs``, ``first_decay_epochs``, ``patience``) is scaled by
        ``epochs / self.epochs`` (whole-number ones rounded, at least 1; see
        :func:`lrsearch.schedules.scale_durations`); rates, optimizer, momentum and granularity
        are unchanged; the result's ``epochs`` is ``epochs``::

            ScheduleSpec("step", {..., "epochs_drop": 3}, epochs=10).for_epochs(30)
            # epochs_drop=9, epochs=30

        Raises:
            ValueError: ``epochs`` is not an integer >= 1, or the spec has no ``epochs``.
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(
                f"Argument `epochs` must be an integer >= 1. Received: epochs={epochs!r}"
            )
        if self.epochs is None:
            raise ValueError(
                "This spec does not say which budget it was tuned for (its `epochs` is None), "
                "so it cannot be carried to another: build it with ScheduleSpec(..., "
                "epochs=E) or get it from lrsearch.load_best."
            )
        params = scale_durations(self.family, self.params, epochs / self.epochs)
        return dataclasses.replace(self, params=params, epochs=epochs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: ``family``, ``params``, ``optimizer``, ``momentum``,
        ``granularity`` and ``epochs``."""
        return {
            "family": self.family,
            "params": dict(self.params),
            "optimizer": self.optimizer,
            "momentum": self.momentum,
            "granularity": self.granularity,
            "epochs": self.epochs,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScheduleSpec:
        """Rebuild a spec from :meth:`to_dict` (a dict without ``granularity`` reads as
        ``"epoch"``, one without ``epochs`` as ``None``)."""
        if not isinstance(data, dict) or "family" not in data or "params" not in data:
            raise ValueError(
                "Argument `data` must be a dict with keys 'family' and 'params'. "
                f"Received: data={data!r}"
            )
        momentum = float(data.get("momentum", 0.0))
        return cls(
            family=data["family"],
            params=dict(data["params"]),
            optimizer=data.get("optimizer", "sgd"),
            momentum=0.0 if math.isnan(momentum) else momentum,
            granularity=data.get("granularity") or "epoch",
            epochs=data.get("epochs"),
        )
