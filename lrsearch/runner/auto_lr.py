"""``tune --initial-lr auto``: a range test per optimizer, once per study, then a search inside.

The range test (:func:`lrsearch.find_lr`) runs on the study's own data and model, once for
each optimizer searched (an adaptive optimizer's usable rates are not SGD's). The curves,
suggestions and bands are stored in the study's user attribute ``lr_range_test``, so a rerun
of the same command reuses them instead of testing again; an optimizer added to a continued
study is tested then. Each optimizer's ``initial_lr`` is searched log-uniformly inside its
own band::

    low  = suggested_lr / 10            (see lrsearch.rangetest: never the steepest reading)
    high = where the loss starts to diverge

and the readings inside each band (suggested, valley, steepest, min/10) are enqueued as the
first trials' ``initial_lr`` (with their ``optimizer`` when several are searched, one
optimizer after the other, so a short run tries each optimizer's suggestion first).

The attribute keeps the form earlier versions wrote and read -- the first optimizer's test,
with ``band``, ``optimizer``, ``lrs``, ``losses``, ... at the top level -- and adds
``optimizers``: optimizer name -> its test. A study stored in the single-band form (no
``optimizers`` key) keeps that band for the optimizer it was measured with.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.runner.prepare import Prepared
from lrsearch.runner.study import existing_study

ATTR = "lr_range_test"
RANGE_TEST_STEPS = 120
MIN_ROWS = 50  # fewer training examples: a range test's curve is noise (5 rows: rates up to 10)


def _valid(info: Any) -> bool:
    band = info.get("band") if isinstance(info, dict) else None
    return isinstance(band, (list, tuple)) and len(band) == 2


def stored_tests(study: Any | None) -> dict[str, dict[str, Any]]:
    """Optimizer name -> its range test stored in ``study`` (empty when there is none yet).

    Reads both forms: ``{"optimizers": {name: test}, ...}`` and the single-band form of earlier
    versions (one test, at the top level, of ``test["optimizer"]``).
    """
    if study is None:
        return {}
    stored = study.user_attrs.get(ATTR)
    if not isinstance(stored, dict):
        return {}
    per = stored.get("optimizers")
    if isinstance(per, dict):
        return {str(k): v for k, v in per.items() if _valid(v)}
    if _valid(stored):  # the single-band form
        return {str(stored.get("optimizer") or "sgd"): stored}
    return {}


def band_of(info: dict[str, Any]) -> tuple[float, float]:
    """A stored test's ``(low, high)`` band."""
    return (float(info["band"][0]), float(info["band"][1]))


def range_tests(prepared: Any, study: Any | None) -> dict[str, dict[str, Any]]:
    """Every optimizer searched -> its range test: stored ones reused, the others run now.

    Raises:
        UsageError: a test found no usable band (nothing is written).
    """
    stored = stored_tests(study)
    tests: dict[str, dict[str, Any]] = {}
    for optimizer in prepared.space.optimizers:
        tests[optimizer] = stored.get(optimizer) or run_range_test(prepared, optimizer)
    return tests


def run_range_test(prepared: Any, optimizer: str | None = None) -> dict[str, Any]:
    """Run the range test for the prepared data and model with ``optimizer`` (default: the
    first searched); return what to store."""
    from lrsearch.rangetest import range_test_on_data

    o = prepared.options
    optimizer = optimizer or prepared.space.optimizers[0]
    rows = len(prepared.data.y_train)
    if rows < MIN_ROWS:
        raise UsageError(
            f"--initial-lr auto: the training data has only {rows} examples, too few for a "
            f"learning-rate range test (it needs at least {MIN_ROWS}: on fewer, the loss "
            "curve is noise and would suggest any rate). Pass a range instead, e.g. "
            "--initial-lr 0.001,0.5, or use more data."
        )
    result = range_test_on_data(
        prepared.data,
        o.model,
        optimizer,
        batch_size=o.batch_size,
        num_steps=RANGE_TEST_STEPS,
        seed=o.seed,
    )
    several = len(prepared.space.optimizers) > 1
    try:
        low, high = result.band()
    except ValueError as exc:
        example = f"{optimizer}=0.001,0.5" if several else "0.001,0.5"
        raise UsageError(
            f"--initial-lr auto: the learning-rate range test with {optimizer} found no usable "
            f"band ({exc}; {result.reason or 'the loss never decreased'}). Pass explicit ranges "
            f"instead, e.g. --initial-lr {example}, or look at the curve with `lrsearch find-lr "
            f"--optimizer {optimizer} --plot curve.png`."
        ) from None
    if not result.confident:
        print(
            f"lrsearch tune: warning: the range test with {optimizer} is not conclusive "
            f"({result.reason}); searching its initial_lr in [{low:.3g}, {high:.3g}] anyway.",
            file=sys.stderr,
        )
    info = result.to_dict()
    info.pop("raw_losses", None)
    info["band"] = [low, high]
    info["optimizer"] = optimizer
    return info


def store_tests(study: Any, tests: dict[str, dict[str, Any]], limit: int | None = None) -> None:
    """Store the tests not yet in ``study`` and enqueue their readings as first trials.

    ``limit``: at most that many readings enqueued (the run's ``--trials``), so a short run
    leaves no WAITING trial behind.
    """
    stored = study.user_attrs.get(ATTR)
    known = stored_tests(study)
    new = {name: info for name, info in tests.items() if name not in known}
    if not new:
        return
    if isinstance(stored, dict) and known:
        attr = dict(stored)  # the top level (the first test, read by earlier versions) stays
    else:
        attr = dict(next(iter(tests.values())))
        attr.pop("optimizers", None)
    attr["optimizers"] = {**known, **new}
    study.set_user_attr(ATTR, attr)
    several = len(tests) > 1
    readings = {name: first_trials(info) for name, info in new.items()}
    queue: list[dict[str, Any]] = []
    for i in range(max(map(len, readings.values()), default=0)):
        for name, lrs in readings.items():
            if i < len(lrs):
                params: dict[str, Any] = {"initial_lr": lrs[i]}
                if several:
                    params = {"optimizer": name, **params}
                queue.append(params)
    for params in queue[:limit]:
        study.enqueue_trial(params, skip_if_exists=True)


def first_trials(info: dict[str, Any]) -> list[float]:
    """The readings of the curve inside the band, suggested first, without duplicates."""
    low, high = info["band"]
    readings = [info.get("suggested_lr"), *dict(info.get("suggestions", {})).values()]
    out: list[float] = []
    for lr in readings:
        if isinstance(lr, (int, float)) and low <= lr <= high:
            if all(abs(lr - seen) > 1e-3 * seen for seen in out):
                out.append(float(lr))
    return out


def auto_initial_lr(prepared: Prepared) -> tuple[Prepared, dict[str, Any]]:
    """Replace ``initial_lr="auto"`` by each optimizer's band from a (stored or new) test."""
    o = prepared.options
    study = existing_study(o)
    stored = stored_tests(study)
    tests = range_tests(prepared, study)
    bands = {name: band_of(info) for name, info in tests.items()}
    for name, (low, high) in bands.items():  # say what was found (or reused)
        source = "the study's stored range test" if name in stored else "the range test"
        print(
            f"lrsearch tune: --initial-lr auto: {name} initial_lr searched in "
            f"[{low:.3g}, {high:.3g}] (from {source}).",
            file=sys.stderr,
        )
    options = dataclasses.replace(o, initial_lr=bands)
    try:
        space = o.search_space(bands)
    except ValueError as exc:
        shown = ", ".join(f"{n} [{lo:.3g}, {hi:.3g}]" for n, (lo, hi) in bands.items())
        raise UsageError(f"--initial-lr auto found the bands {shown}, but {exc}") from None
    return Prepared(options, space, prepared.data), tests
