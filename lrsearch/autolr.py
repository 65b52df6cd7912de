"""``tune --initial-lr auto``: a range test once per study, then a search inside its band.

The range test (:func:`lrsearch.find_lr`) runs on the study's own data and model with the
first optimizer searched. Its curve, suggestions and band are stored in the study's user
attribute ``lr_range_test``, so a rerun of the same command reuses them instead of testing
again. ``initial_lr`` is then searched log-uniformly inside the band::

    low  = suggested_lr / 10            (the steepest-descent reading, else the valley)
    high = where the loss starts to diverge

and the readings inside the band (suggested, valley, steepest, min/10) are enqueued as the
first trials' ``initial_lr``.
"""

from __future__ import annotations

import sys
from typing import Any

from lrsearch.errors import UsageError

ATTR = "lr_range_test"
RANGE_TEST_STEPS = 120


def stored_band(study: Any | None) -> dict[str, Any] | None:
    """The range test stored in ``study`` (``None`` when there is none yet)."""
    if study is None:
        return None
    stored = study.user_attrs.get(ATTR)
    return stored if isinstance(stored, dict) and "band" in stored else None


def run_range_test(prepared: Any) -> dict[str, Any]:
    """Run the range test for the prepared data and model; return what to store."""
    import keras

    from lrsearch.models import loss_and_metrics
    from lrsearch.rangetest import find_lr
    from lrsearch.space import ScheduleSpec

    o = prepared.options
    data = prepared.data
    optimizer = prepared.space.optimizers[0]
    momentum = 0.9 if optimizer in ("sgd", "nesterov") else 0.0
    keras.backend.clear_session()
    keras.utils.set_random_seed(o.seed)
    from lrsearch.models import build_for

    model = build_for(o.model, data)
    loss, metrics = loss_and_metrics(model, data.task)
    spec = ScheduleSpec("constant", {"initial_lr": 1e-3}, optimizer, momentum)
    model.compile(optimizer=spec.build_optimizer(), loss=loss, metrics=metrics)
    result = find_lr(
        model,
        data.x_train,
        data.y_train,
        start_lr=1e-6,
        end_lr=10.0,
        batch_size=o.batch_size,
        num_steps=RANGE_TEST_STEPS,
        seed=o.seed,
    )
    keras.backend.clear_session()
    try:
        low, high = result.band()
    except ValueError as exc:
        raise UsageError(
            f"--initial-lr auto: the learning-rate range test found no usable band ({exc}; "
            f"{result.reason or 'the loss never decreased'}). Pass an explicit range instead, "
            "e.g. --initial-lr 0.001,0.5, or look at the curve with `lrsearch find-lr --plot "
            "curve.png`."
        ) from None
    if not result.confident:
        print(
            f"lrsearch tune: warning: the range test is not conclusive ({result.reason}); "
            f"searching initial_lr in [{low:.3g}, {high:.3g}] anyway.",
            file=sys.stderr,
        )
    info = result.to_dict()
    info.pop("raw_losses", None)
    info["band"] = [low, high]
    info["optimizer"] = optimizer
    return info


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
