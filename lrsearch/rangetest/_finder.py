"""The learning-rate range test on a compiled Keras model (Smith, 2018).

The learning rate rises exponentially, batch by batch, from ``start_lr`` to ``end_lr``; the
training loss is recorded and smoothed; the test stops when the smoothed loss diverges. The
model's variables and its optimizer's state are put back afterwards, whatever happens.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from lrsearch.rangetest import _suggest
from lrsearch.rangetest._steps import planned_steps

if TYPE_CHECKING:  # pragma: no cover
    import keras
    from matplotlib.axes import Axes

#: batch size used to evaluate ``validation_data`` after each step
_EVAL_CHUNK = 1024


@dataclass(frozen=True)
class LRFinderResult:
    """The outcome of :func:`find_lr`: the curve and what it suggests.

    ``lrs[i]`` is the learning rate used for step ``i``, ``raw_losses[i]`` the loss of that
    step and ``losses[i]`` its smoothed value (an exponential moving average with bias
    correction). ``suggested_lr`` is ``None`` when the curve never descends; when the readings
    in ``suggestions`` disagree it is kept but ``confident`` is ``False`` and ``reason`` says
    why. ``diverged_lr`` is the rate at which the test stopped because the loss diverged
    (``None`` when it ran to ``end_lr``).
    """

    lrs: list[float]
    losses: list[float]
    raw_losses: list[float]
    suggested_lr: float | None
    suggestions: dict[str, float | None] = field(default_factory=dict)
    method: str | None = None
    diverged_lr: float | None = None
    confident: bool = False
    reason: str = ""

    @classmethod
    def from_curve(
        cls,
        lrs: list[float],
        raw_losses: list[float],
        *,
        smoothing: float = 0.98,
        diverged_lr: float | None = None,
        plain_sgd: bool = False,
    ) -> LRFinderResult:
        """Smooth ``raw_losses`` and read the suggestion off the curve.

        ``plain_sgd``: the curve comes from SGD without momentum (see :func:`_suggest.suggest`).
        """
        losses = [float(v) for v in _suggest.ema(raw_losses, smoothing)]
        lrs = [float(v) for v in lrs]
        suggestion = _suggest.suggest(lrs, losses, plain_sgd=plain_sgd)
        return cls(
            lrs=lrs,
            losses=losses,
            raw_losses=[float(v) for v in raw_losses],
            suggested_lr=suggestion.suggested_lr,
            suggestions=suggestion.suggestions,
            method=suggestion.method,
            diverged_lr=None if diverged_lr is None else float(diverged_lr),
            confident=suggestion.confident,
            reason=suggestion.reason,
        )

    def band(self) -> tuple[float, float]:
        """A ``(low, high)`` learning-rate band to search around the suggestion.

        ``low`` is ``suggested_lr / 10`` (``min_div_10 / 10`` without a suggestion); ``high``
        is the rate where the loss started to diverge: the first rate past the minimum where
        the smoothed loss has climbed half way back to its starting level, else
        ``diverged_lr``, else the last rate tested. Both lie inside the tested range and
        ``low < high``. Raises ``ValueError`` when the curve never descended (there is nothing
        to centre a band on).
        """
        return _suggest.band(
            self.lrs, self.losses, self.suggested_lr, self.suggestions, self.diverged_lr
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (non-finite losses become ``None``)."""

        def clean(values: list[float]) -> list[float | None]:
            return [v if math.isfinite(v) else None for v in values]

        return {
            "suggested_lr": self.suggested_lr,
            "method": self.method,
            "confident": self.confident,
            "reason": self.reason,
            "suggestions": dict(self.suggestions),
            "diverged_lr": self.diverged_lr,
            "num_steps": len(self.lrs),
            "lrs": list(self.lrs),
            "losses": clean(self.losses),
            "raw_losses": clean(self.raw_losses),
        }

    def plot(self, ax: Axes | None = None, *, label: str | None = None) -> Axes:
        """Draw the smoothed loss against the learning rate (log scale) on ``ax``.

        The suggestion is marked by a dashed vertical line (labelled with its method, and
        "not confident" where that applies), the divergence point by a dotted one, both in the
        curve's colour, so several results can share one ``ax`` (give each a ``label``). A new
        figure is made when ``ax`` is ``None`` (with the Agg backend when no matplotlib backend
        was chosen yet); nothing is shown::

            result.plot().figure.savefig("lr_range_test.png")
        """
        from lrsearch.rangetest._plot import plot_result

        return plot_result(self, ax=ax, label=label)


def _check_args(
    start_lr: float,
    end_lr: float,
    batch_size: int,
    epochs: int,
    num_steps: int | None,
    smoothing: float,
    diverge_factor: float,
    verbose: int,
) -> None:
    def number(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"Argument `{name}` must be a number. Received: {name}={value!r}")
        return float(value)

    def integer(name: str, value: Any, low: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(
                f"Argument `{name}` must be an integer >= {low}. Received: {name}={value!r}"
            )
        if value < low:
            raise ValueError(f"Argument `{name}` must be >= {low}. Received: {name}={value!r}")

    start = number("start_lr", start_lr)
    if not (math.isfinite(start) and start > 0):
        raise ValueError(f"Argument `start_lr` must be > 0. Received: start_lr={start_lr}")
    end = number("end_lr", end_lr)
    if not (math.isfinite(end) and end > start):
        raise ValueError(
            f"Argument `end_lr` must be > start_lr ({start_lr}). Received: end_lr={end_lr}"
        )
    integer("batch_size", batch_size, 1)
    integer("epochs", epochs, 1)
    if num_steps is not None:
        integer("num_steps", num_steps, 1)
    beta = number("smoothing", smoothing)
    if not 0.0 <= beta < 1.0:
        raise ValueError(
            f"Argument `smoothing` must be in [0, 1). Received: smoothing={smoothing}"
        )
    factor = number("diverge_factor", diverge_factor)
    if not factor > 1.0:
        raise ValueError(
            f"Argument `diverge_factor` must be > 1. Received: diverge_factor={diverge_factor}"
        )
    if verbose not in (0, 1, 2):
        raise ValueError(f"Argument `verbose` must be 0, 1 or 2. Received: verbose={verbose!r}")


def _length(data: Any, name: str) -> int:
    import keras

    lengths = {int(np.shape(leaf)[0]) for leaf in keras.tree.flatten(data)}
    if len(lengths) != 1:
        raise ValueError(
            f"All arrays in `{name}` must have the same number of samples. "
            f"Received lengths {sorted(lengths)}"
        )
    return lengths.pop()


def _as_arrays(data: Any) -> Any:
    import keras

    return keras.tree.map_structure(np.asarray, data)


def _take(data: Any, index: np.ndarray) -> Any:
    import keras

    return keras.tree.map_structure(lambda a: a[index], data)


def _batches(n: int, batch_size: int, seed: int) -> Iterator[np.ndarray]:
    """Endless stream of index batches: a fresh shuffle each pass, every batch full."""
    rng = np.random.default_rng(seed)
    pending = np.empty(0, dtype=np.int64)
    while True:
        while pending.size < batch_size:
            pending = np.concatenate([pending, rng.permutation(n)])
        yield pending[:batch_size]
        pending = pending[batch_size:]


def _optimizer_with_float_lr(model: keras.Model) -> Any:
    import keras

    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(model, "compiled", True):
        raise ValueError(
            "find_lr needs a compiled model: call `model.compile(optimizer=..., loss=...)` first."
        )
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    lr = getattr(inner, "_learning_rate", None)
    schedule_cls = keras.optimizers.schedules.LearningRateSchedule
    if isinstance(lr, schedule_cls) or (callable(lr) and not isinstance(lr, keras.Variable)):
        raise ValueError(
            "find_lr needs an optimizer with a float learning rate, so that it can set the "
            f"rate before each batch; this {type(inner).__name__} was built with "
            f"{type(lr).__name__}. Compile with e.g. "
            f"`keras.optimizers.{type(inner).__name__}(learning_rate=0.01)` for the range test."
        )
    return optimizer


def _is_plain_sgd(optimizer: Any) -> bool:
    """Whether ``optimizer`` is SGD without momentum (each step follows one batch's gradient)."""
    import keras

    inner = getattr(optimizer, "inner_optimizer", optimizer)
    if not isinstance(inner, keras.optimizers.SGD):
        return False
    try:
        return float(inner.momentum) == 0.0
    except (TypeError, ValueError):
        return False


def _snapshot(variables: list[Any]) -> list[tuple[Any, np.ndarray]]:
    return [(v, np.array(v.numpy(), copy=True)) for v in variables]


def _restore(saved: list[tuple[Any, np.ndarray]]) -> None:
    for variable, value in saved:
        variable.assign(value)


def _evaluate(model: keras.Model, x: Any, y: Any, n: int) -> float:
    """Mean loss over ``(x, y)`` in chunks, without callbacks or progress output."""
    total = 0.0
    for begin in range(0, n, _EVAL_CHUNK):
        index = np.arange(begin, min(n, begin + _EVAL_CHUNK))
        logs = model.test_on_batch(_take(x, index), _take(y, index), return_dict=True)
        total += float(logs["loss"]) * index.size
    return total / n


def find_lr(
    model: keras.Model,
    x: Any,
    y: Any,
    *,
    start_lr: float = 1e-6,
    end_lr: float = 10.0,
    batch_size: int = 64,
    epochs: int = 1,
    num_steps: int | None = None,
    smoothing: float = 0.98,
    diverge_factor: float = 5.0,
    validation_data: tuple[Any, Any] | None = None,
    seed: int = 0,
    verbose: int = 0,
) -> LRFinderResult:
    """Run the learning-rate range test on a compiled Keras model and restore it afterwards.

    Step ``i`` of ``N`` trains one batch with::

        lr_i = start_lr * (end_lr / start_lr) ** (i / (N - 1))

    where ``N = num_steps`` when given, else ``epochs * ceil(len(x) / batch_size)`` but at least
    :data:`MIN_AUTO_STEPS` (200), see :func:`planned_steps`: the data is reshuffled with
    ``seed`` and cycled as often as needed (every batch is full), so a small dataset still gives
    a curve with enough points to read. An explicit ``num_steps`` is used as given (``>= 1``;
    too short a curve gives no suggestion, and says so). The recorded loss is the training
    loss of the batch, or the loss on ``validation_data`` after the step when given (slower,
    Smith's original reading). It is smoothed by an exponential moving average with
    bias correction::

        avg_i = smoothing * avg_{i-1} + (1 - smoothing) * loss_i
        smoothed_i = avg_i / (1 - smoothing ** (i + 1))

    and the test stops early when ``smoothed_i > diverge_factor * min(smoothed)`` or the loss is
    NaN/inf (``diverged_lr`` is then the rate of that step).

    The model's variables (weights, and the state of its random seed generators) and all of
    the optimizer's variables (iterations, learning rate, moments) are restored before this
    function returns or raises, and the compiled metrics are reset.

    Example::

        model.compile(optimizer=keras.optimizers.SGD(momentum=0.9), loss="...")
        result = lrsearch.rangetest.find_lr(model, x_train, y_train)
        result.suggested_lr, result.confident, result.reason
        result.plot().figure.savefig("lr_range_test.png")

    Raises ``ValueError`` for invalid arguments, an uncompiled model, or an optimizer built
    with a ``LearningRateSchedule`` (its rate cannot be set batch by batch).
    """
    _check_args(
        start_lr, end_lr, batch_size, epochs, num_steps, smoothing, diverge_factor, verbose
    )
    optimizer = _optimizer_with_float_lr(model)
    x, y = _as_arrays(x), _as_arrays(y)
    n = _length(x, "x")
    if _length(y, "y") != n:
        raise ValueError(
            "`x` and `y` must have the same number of samples. "
            f"Received: {n} and {_length(y, 'y')}"
        )
    if n == 0:
        raise ValueError("`x` is empty: the range test needs training data.")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                "Argument `validation_data` must be a tuple (x_val, y_val). "
                f"Received: {type(validation_data).__name__}"
            )
        x_val, y_val = _as_arrays(validation_data[0]), _as_arrays(validation_data[1])
        n_val = _length(x_val, "validation_data")
        if n_val == 0 or _length(y_val, "validation_data") != n_val:
            raise ValueError("`validation_data` must hold as many labels as samples, >= 1.")

    batch = min(int(batch_size), n)
    total = planned_steps(n, batch, epochs, num_steps)
    ratio = float(end_lr) / float(start_lr)
    lrs_planned = [float(start_lr) * ratio ** (i / max(total - 1, 1)) for i in range(total)]

    # Build everything that holds state now, so that all of it can be snapshot.
    batches = _batches(n, batch, seed)
    first = next(batches)
    if not model.built:
        model(_take(x, first[:1]))
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    saved = _snapshot(list(model.variables) + list(optimizer.variables))

    progbar = None
    if verbose:
        import keras

        progbar = keras.utils.Progbar(
            total, verbose=verbose, stateful_metrics=["lr", "loss"], unit_name="step"
        )

    lrs: list[float] = []
    raw: list[float] = []
    diverged_lr: float | None = None
    beta = float(smoothing)
    avg = 0.0
    best = math.inf
    index = first
    try:
        for step, lr in enumerate(lrs_planned):
            if step:
                index = next(batches)
            optimizer.learning_rate = lr
            logs = model.train_on_batch(_take(x, index), _take(y, index), return_dict=True)
            loss = float(logs["loss"])
            if validation_data is not None and math.isfinite(loss):
                loss = _evaluate(model, x_val, y_val, n_val)
            if not math.isfinite(loss):
                diverged_lr = lr
                break
            avg = beta * avg + (1.0 - beta) * loss
            smoothed = avg / (1.0 - beta ** (step + 1))
            lrs.append(lr)
            raw.append(loss)
            best = min(best, smoothed)
            if progbar is not None:
                progbar.update(step + 1, [("lr", lr), ("loss", smoothed)])
            if step and best > 0 and smoothed > diverge_factor * best:
                diverged_lr = lr
                break
    finally:
        _restore(saved)
        model.reset_metrics()
    if progbar is not None and len(lrs) < total:
        progbar.update(total, finalize=True)
    return LRFinderResult.from_curve(
        lrs, raw, smoothing=beta, diverged_lr=diverged_lr, plain_sgd=_is_plain_sgd(optimizer)
    )
