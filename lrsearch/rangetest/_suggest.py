"""Reading a learning-rate range test curve: pure functions over numpy arrays, no Keras.

The range test records, for exponentially increasing learning rates ``lrs``, a smoothed
training loss ``losses``. Three classic readings of that curve are computed here:

* ``steepest``: where the smoothed loss falls fastest per decade of learning rate, i.e.
  ``argmin(d loss / d log10(lr))`` (Smith's and the MachineCurve article's reading, as in
  pytorch-lr-finder);
* ``min_div_10``: the learning rate at the lowest loss, divided by 10 (fastai's ``minimum``);
* ``valley``: after fastai's ``valley``: the descending stretch of the curve, from where the
  loss really starts to fall (5% of its total drop) to its minimum, and the point two thirds
  of the way down it (in log learning rate).

The one that becomes ``suggested_lr`` is the one that holds up as a constant rate
(``benchmarks/bench_find_lr.py`` trains every bundled dataset x model x optimizer at each
reading and on a grid): the lower of ``valley`` and ``min_div_10``; for plain SGD (no momentum)
the ``valley``. ``steepest`` is reported but never suggested: on short or coarse curves it sits
at the loss minimum, right where the loss blows up, and even on 200-step curves it diverged
(digits, cnn, SGD with momentum) or trained 6x worse than the grid's best (iris, SGD with
momentum). :func:`suggest` says, in words, when the curve gives no clear answer. Every reading
skips the first tenth of the curve (the learning rates that do nothing) and its last few points
(where the loss explodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

#: names of the readings
METHODS: tuple[str, ...] = ("steepest", "valley", "min_div_10")

#: the readings that may become ``suggested_lr`` (the lowest of them does; valley on a tie)
CONSERVATIVE: tuple[str, ...] = ("valley", "min_div_10")

#: for plain SGD the first of these below the diverging end becomes ``suggested_lr``
PLAIN_SGD_ORDER: tuple[str, ...] = ("valley", "min_div_10")

#: the diverging end of the curve: every rate above the lowest loss's rate divided by this
#: factor (half a decade below the minimum, where the loss stops falling and soon blows up);
#: no suggestion ever comes from there
DIVERGING_END_FACTOR = 3.0

#: suggestions further apart than this factor make the result "not confident"
DISAGREEMENT_FACTOR = 30.0

#: the loss must fall by at least this fraction of its starting level to count as descending
MIN_RELATIVE_DROP = 0.05

#: "never decreased" over fewer steps than this hints at a too short test
FEW_POINTS = 50

#: fewer usable points than this (after skipping both ends) give no suggestion
MIN_POINTS = 8

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


class Suggestion(NamedTuple):
    """What :func:`suggest` reads from a range-test curve (a tuple, so it unpacks)."""

    #: the learning rate to use, or ``None`` where the curve gives no answer
    suggested_lr: float | None
    #: every reading by name (``steepest``, ``min_div_10``, ``valley``); ``None`` where absent
    suggestions: dict[str, float | None]
    #: the name of the reading that gave ``suggested_lr`` (``None`` with it)
    method: str | None
    #: ``False`` when the readings disagree, the curve never descends or never turns up
    confident: bool
    #: why the result is not confident ("" when it is)
    reason: str


def ema(raw_losses: ArrayLike, smoothing: float) -> FloatArray:
    """Exponential moving average with bias correction (the range test's smoothed loss).

    ``avg[i] = smoothing * avg[i-1] + (1 - smoothing) * raw[i]`` with ``avg[-1] = 0``, and
    ``smoothed[i] = avg[i] / (1 - smoothing ** (i + 1))``, so the first value is ``raw[0]``.
    ``smoothing=0`` returns the raw losses.
    """
    raw = np.asarray(raw_losses, dtype=np.float64)
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(
            f"Argument `smoothing` must be in [0, 1). Received: smoothing={smoothing}"
        )
    out = np.empty_like(raw)
    avg = 0.0
    for i, value in enumerate(raw):
        avg = smoothing * avg + (1.0 - smoothing) * float(value)
        out[i] = avg / (1.0 - smoothing ** (i + 1))
    return out


def _as_curve(lrs: ArrayLike, losses: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(lrs, dtype=np.float64).reshape(-1)
    y = np.asarray(losses, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(
            "`lrs` and `losses` must have the same length. "
            f"Received: len(lrs)={x.size}, len(losses)={y.size}"
        )
    if x.size and (not np.all(np.isfinite(x)) or np.any(x <= 0)):
        raise ValueError("`lrs` must be finite and > 0.")
    if x.size > 1 and np.any(np.diff(x) <= 0):
        raise ValueError("`lrs` must be strictly increasing.")
    return x, y


def _window(n: int) -> tuple[int, int]:
    """The ``[start, stop)`` index window the readings look at: skip 10 % and the last few."""
    skip_start = min(max(1, n // 10), 10) if n >= 10 else 0
    skip_end = min(max(1, n // 20), 5) if n >= 10 else 0
    return skip_start, n - skip_end


def _descent(x: FloatArray, y: FloatArray) -> tuple[int, int, float, float] | None:
    """The reading window ``[lo, hi)``, the curve's starting level and its lowest loss.

    ``None`` when the window holds fewer than :data:`MIN_POINTS` finite points.
    """
    lo, hi = _window(x.size)
    if hi - lo < MIN_POINTS or np.isfinite(y[lo:hi]).sum() < MIN_POINTS:
        return None
    start_level = float(np.median(y[: max(lo, 1)]))
    lowest = float(np.nanmin(np.where(np.isfinite(y[lo:hi]), y[lo:hi], np.nan)))
    return lo, hi, start_level, lowest


def _descends(start_level: float, lowest: float) -> bool:
    return start_level - lowest > MIN_RELATIVE_DROP * max(abs(start_level), 1e-12)


def _real_descent(
    x: FloatArray, y: FloatArray
) -> tuple[int, tuple[int, int, float, float]] | None:
    """``(index of the lowest loss, _descent(x, y))`` when the curve really descends."""
    found = _descent(x, y)
    i_min = minimum_index(x, y)
    if found is None or i_min is None or not _descends(found[2], found[3]):
        return None
    return i_min, found


def _still_falling(y: FloatArray, lo: int) -> bool:
    """Whether the whole curve (tail included) is lowest at one of its last two points."""
    tail = np.where(np.isfinite(y[lo:]), y[lo:], np.inf)
    return bool(tail.size) and int(np.argmin(tail)) >= tail.size - 2


def minimum_index(lrs: ArrayLike, losses: ArrayLike) -> int | None:
    """Index of the lowest loss inside the reading window, or ``None`` for too short curves."""
    x, y = _as_curve(lrs, losses)
    found = _descent(x, y)
    if found is None:
        return None
    lo, hi = found[0], found[1]
    window = np.where(np.isfinite(y[lo:hi]), y[lo:hi], np.inf)
    return lo + int(np.argmin(window))


def steepest_index(lrs: ArrayLike, losses: ArrayLike) -> int | None:
    """Index of the steepest descent of ``losses`` against ``log10(lrs)``, or ``None``.

    Only the descending part counts (from the start of the reading window to the lowest
    loss), so a spike after the minimum falling back down is never read as a descent.
    ``None`` when the curve is too short or never falls.
    """
    x, y = _as_curve(lrs, losses)
    found = _descent(x, y)
    i_min = minimum_index(x, y)
    if found is None or i_min is None or not _descends(found[2], found[3]):
        return None
    lo = found[0]
    if i_min - lo < 2:
        return None
    seg = slice(lo, i_min + 1)
    slope = np.gradient(y[seg], np.log10(x[seg]))
    slope = np.where(np.isfinite(slope), slope, np.inf)
    i = int(np.argmin(slope))
    if not slope[i] < 0:
        return None
    return lo + i


def valley_index(lrs: ArrayLike, losses: ArrayLike, *, fraction: float = 2.0 / 3.0) -> int | None:
    """The valley reading: ``fraction`` of the way down the descending stretch.

    The stretch ends at the lowest loss and starts at the last point before it where the loss
    was still within 5 % of the total drop of its starting level (where the descent really
    begins: flat, noisy beginnings are not part of it, unlike in a longest-decreasing-
    subsequence reading). The point returned lies ``fraction`` of the stretch's length in log
    learning rate after its start. ``None`` when the curve is too short, never descends, or
    the stretch is shorter than 3 points.
    """
    x, y = _as_curve(lrs, losses)
    descent = _real_descent(x, y)
    if descent is None:
        return None
    i_min, (lo, _, start_level, lowest) = descent
    threshold = start_level - 0.05 * (start_level - lowest)
    above = np.nonzero(y[lo : i_min + 1] >= threshold)[0]
    start = lo + (int(above[-1]) if above.size else 0)
    if i_min - start < 2:
        return None
    target = np.log10(x[start]) + fraction * (np.log10(x[i_min]) - np.log10(x[start]))
    return start + int(np.argmin(np.abs(np.log10(x[start : i_min + 1]) - target)))


def diverging_end(lrs: ArrayLike, losses: ArrayLike) -> float | None:
    """The lowest rate of the curve's diverging end: the lowest loss's rate / 3.

    From there up the loss stops falling, turns and blows up (or, on a coarse curve, the next
    step already does): a rate there trains at the edge of divergence, and no suggestion comes
    from it. ``None`` when the curve is too short or never descends.
    """
    x, y = _as_curve(lrs, losses)
    found = _descent(x, y)
    i_min = minimum_index(x, y)
    if found is None or i_min is None or not _descends(found[2], found[3]):
        return None
    return float(x[i_min]) / DIVERGING_END_FACTOR


def suggest(lrs: ArrayLike, losses: ArrayLike, *, plain_sgd: bool = False) -> Suggestion:
    """Read a learning rate off a range-test curve, or say why there is none.

    Returns ``(suggested_lr, suggestions, method, confident, reason)``:

    * the curve never descends (its lowest loss is less than :data:`MIN_RELATIVE_DROP` below
      its starting level), or is too short: ``suggested_lr`` is ``None``, ``confident`` is
      ``False`` and ``reason`` says which;
    * otherwise ``suggested_lr`` is the lowest of the :data:`CONSERVATIVE` readings
      (``valley``, ``min_div_10``; ``method`` names it) below the :func:`diverging_end`; with
      ``plain_sgd=True`` (SGD without momentum) the ``valley`` when it lies below the
      diverging end, else ``min_div_10``. ``steepest`` is reported in ``suggestions`` but
      never suggested.

      Why two rules (measured by ``benchmarks/bench_find_lr.py``): an optimizer that averages
      gradients over steps (momentum, Adam's moments) answers the rising rate late, so its
      curve turns up at rates already too high to train at; at the valley it trained 2-4x
      worse than a grid's best (digits, cnn, SGD with momentum and Adam), at the lower reading
      it held up everywhere. Plain SGD answers at once: there the lower reading trained up to
      2x worse than the valley (digits, mlp).

      The result is flagged ``confident=False`` (the rate is kept, with the reason) when the
      readings differ by more than :data:`DISAGREEMENT_FACTOR`, or when the loss was still
      falling at the largest rate tested (the minimum lies beyond the range). Confident or not,
      the suggestion lies below the diverging end (a third of the lowest loss's rate).
    """
    x, y = _as_curve(lrs, losses)
    empty: dict[str, float | None] = {"steepest": None, "min_div_10": None, "valley": None}
    found = _descent(x, y)
    if found is None:
        reason = (
            f"too few points to read the curve ({x.size} recorded, at least {MIN_POINTS + 2} "
            "finite ones needed): use more steps or a smaller batch size"
        )
        return Suggestion(None, empty, None, False, reason)
    lo, hi, start_level, lowest = found
    if not _descends(start_level, lowest):
        reason = "the loss never decreased"
        if x.size < FEW_POINTS:
            reason += f" (over only {x.size} steps: use more epochs or steps)"
        else:
            reason += (
                f" by {MIN_RELATIVE_DROP:.0%} of its starting level (over {x.size} steps: a "
                "model that learns slowly needs more steps or epochs)"
            )
        return Suggestion(None, empty, None, False, reason)

    i_steep = steepest_index(x, y)
    i_min = minimum_index(x, y)
    i_valley = valley_index(x, y)
    suggestions: dict[str, float | None] = {
        "steepest": None if i_steep is None else float(x[i_steep]),
        "min_div_10": None if i_min is None else float(x[i_min]) / 10.0,
        "valley": None if i_valley is None else float(x[i_valley]),
    }
    limit = diverging_end(x, y)
    candidates = [
        (value, m)
        for m in CONSERVATIVE
        if (value := suggestions[m]) is not None and (limit is None or value < limit)
    ]
    if not candidates:  # pragma: no cover - a descending curve always has min_div_10
        return Suggestion(None, suggestions, None, False, "the loss never decreased")
    if plain_sgd:
        suggested, method = min(candidates, key=lambda c: PLAIN_SGD_ORDER.index(c[1]))
    else:
        suggested, method = min(candidates, key=lambda c: (c[0], CONSERVATIVE.index(c[1])))

    reasons = []
    values = [v for v in suggestions.values() if v is not None]
    if max(values) / min(values) > DISAGREEMENT_FACTOR:
        listed = ", ".join(f"{k}={v:.3g}" for k, v in suggestions.items() if v is not None)
        reasons.append(f"suggestions disagree by more than {DISAGREEMENT_FACTOR:g}x ({listed})")
    if _still_falling(y, lo):
        reasons.append(
            "the loss was still falling at the largest learning rate tested: raise `end_lr`"
        )
    return Suggestion(suggested, suggestions, method, not reasons, "; ".join(reasons))


def divergence_start(lrs: ArrayLike, losses: ArrayLike) -> float | None:
    """The first rate past the lowest loss where the loss has climbed half way back up.

    "Half way" is the middle between the lowest loss and the starting level: training at that
    rate undoes half of what the smaller rates achieved, so the loss has started to diverge.
    NaN/inf count as diverged. ``None`` when the curve never climbs back that far (or never
    descends).
    """
    x, y = _as_curve(lrs, losses)
    descent = _real_descent(x, y)
    if descent is None:
        return None
    i_min, (_, _, start_level, lowest) = descent
    threshold = lowest + 0.5 * (start_level - lowest)
    after = np.nonzero(~(y[i_min:] < threshold))[0]
    return None if not after.size else float(x[i_min + int(after[0])])


def band(
    lrs: Sequence[float],
    losses: Sequence[float],
    suggested_lr: float | None,
    suggestions: dict[str, float | None],
    diverged_lr: float | None,
) -> tuple[float, float]:
    """A ``(low, high)`` learning-rate band to search, from a range test's readings.

    ``low = suggested_lr / 10`` (or ``min_div_10 / 10``); ``high`` is the rate where the loss
    started to diverge (:func:`divergence_start`), else the rate at which the test stopped on
    divergence, else the end of the curve; both are clipped to the tested range, ``low < high``.
    Raises ``ValueError`` when the curve gave no suggestion at all.
    """
    if len(lrs) < 2:
        raise ValueError("The range test recorded fewer than 2 points: no band to search.")
    first, last = float(lrs[0]), float(lrs[-1])
    anchor = suggested_lr if suggested_lr is not None else suggestions.get("min_div_10")
    if anchor is None:
        raise ValueError(
            "The range test gave no learning rate to build a band from (the curve never "
            "descended): search an explicit learning-rate range instead."
        )
    candidates = [v for v in (divergence_start(lrs, losses), diverged_lr) if v is not None]
    top = min(candidates) if candidates else last
    high = min(max(top, first), last)
    low = min(max(anchor / 10.0, first), last)
    if not low < high:
        low = max(first, high / 10.0)
    if not low < high:  # pragma: no cover - only when first == last, excluded above
        raise ValueError("The range test covered a single learning rate: no band to search.")
    return low, high
