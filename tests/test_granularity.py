"""``ScheduleSpec.granularity``: the rate per step inside the graph (issue 17).

``build_optimizer(steps_per_epoch=n)`` evaluates the schedule at ``t = step / n`` ("step") or
``floor(step / n)`` ("epoch"); the history records the rate of each epoch's last step; the
Trainer's reused compiled model trains a per-step spec exactly as a fresh one does.
"""

from __future__ import annotations

import json
from typing import Any

import keras
import numpy as np
import pytest

from lrsearch.data import Dataset
from lrsearch.data import load_dataset
from lrsearch.keras import InGraphSchedule
from lrsearch.keras import ReloadableStepSchedule
from lrsearch.space import ScheduleSpec
from lrsearch.training import Trainer

WARM_STEP = {"initial_lr": 0.1, "drop_rate": 0.5, "epochs_drop": 2, "warmup_epochs": 2,
             "start_lr": 0.01}  # fmt: skip


def _lr_at(optimizer: keras.optimizers.Optimizer, iteration: int) -> float:
    optimizer.iterations.assign(iteration)
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def test_step_granularity_changes_the_rate_inside_an_epoch() -> None:
    spec = ScheduleSpec("step", WARM_STEP, granularity="step")
    schedule = spec.schedule
    assert schedule is not None
    optimizer = spec.build_optimizer(steps_per_epoch=10)
    assert _lr_at(optimizer, 5) == pytest.approx(schedule(0.5), rel=1e-6)
    assert _lr_at(optimizer, 15) == pytest.approx(schedule(1.5), rel=1e-6)
    assert schedule(0.5) != schedule(0)


def test_epoch_granularity_keeps_the_epochs_rate() -> None:
    spec = ScheduleSpec("step", WARM_STEP)  # granularity="epoch" by default
    schedule = spec.schedule
    assert schedule is not None
    optimizer = spec.build_optimizer(steps_per_epoch=10)
    assert _lr_at(optimizer, 15) == pytest.approx(schedule(1), rel=1e-6)
    assert _lr_at(optimizer, 5) == pytest.approx(schedule(0), rel=1e-6)


def _tiny() -> tuple[keras.Model, np.ndarray, np.ndarray]:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(0)
    return model, rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, 40)


@pytest.mark.parametrize("granularity", ["epoch", "step"])
def test_history_records_the_rate_of_each_epochs_last_step(granularity: str) -> None:
    spec = ScheduleSpec("cosine", {"initial_lr": 0.1, "decay_epochs": 4, "warmup_epochs": 1,
                                   "start_lr": 0.0}, granularity=granularity)  # fmt: skip
    schedule = spec.schedule
    assert schedule is not None
    model, x, y = _tiny()
    n = 4  # 40 examples, batch 10
    model.compile(optimizer=spec.build_optimizer(steps_per_epoch=n),
                  loss="sparse_categorical_crossentropy")  # fmt: skip
    history = model.fit(x, y, batch_size=10, epochs=5, verbose=0, callbacks=spec.callbacks())
    if granularity == "step":
        want = [schedule(e + (n - 1) / n) for e in range(5)]
    else:
        want = [schedule(e) for e in range(5)]
    np.testing.assert_allclose(history.history["learning_rate"], want, rtol=1e-5)


@pytest.mark.parametrize("granularity", ["epoch", "step"])
def test_the_trainers_rate_table_is_the_in_graph_schedule(granularity: str) -> None:
    first = ScheduleSpec("one_cycle", {"initial_lr": 0.3, "total_epochs": 6}).schedule
    second = ScheduleSpec(
        "cyclical",
        {
            "initial_lr": 0.01,
            "max_lr": 0.1,
            "step_size": 1.5,
            "mode": "triangular2",
            "warmup_epochs": 1,
        },
    ).schedule
    assert first is not None and second is not None
    table = ReloadableStepSchedule(first, steps_per_epoch=7, epochs=6, granularity=granularity)
    for schedule in (first, second):
        table.load(schedule)
        exact = InGraphSchedule(schedule, steps_per_epoch=7, granularity=granularity)
        for step in range(0, 6 * 7 + 3):  # past the end: the last rate
            got = float(keras.ops.convert_to_numpy(table(step)))
            want = float(keras.ops.convert_to_numpy(exact(min(step, 6 * 7 - 1))))
            assert got == pytest.approx(want, rel=1e-5, abs=1e-9), step
    # serialisable: the rebuilt table holds the rates of the schedule loaded last
    config = json.loads(json.dumps(table.get_config()))
    assert config["epochs"] == 6 and config["steps_per_epoch"] == 7
    rebuilt = ReloadableStepSchedule.from_config(config)
    for step in (0, 9, 41, 50):
        assert float(keras.ops.convert_to_numpy(rebuilt(step))) == pytest.approx(
            float(keras.ops.convert_to_numpy(table(step))), rel=1e-6
        )
    optimizer = keras.optimizers.SGD(learning_rate=table)
    again = keras.optimizers.SGD.from_config(json.loads(json.dumps(optimizer.get_config())))
    assert isinstance(again._learning_rate, ReloadableStepSchedule)  # what Keras saves


@pytest.fixture(scope="module")
def small() -> Dataset:
    d = load_dataset("digits", seed=0)
    return Dataset(
        name="digits-slice",
        x_train=d.x_train[:200],  # 4 batches of 64, the last one short
        y_train=d.y_train[:200],
        x_val=d.x_val[:96],
        y_val=d.y_val[:96],
        n_classes=d.n_classes,
    )


def _spec(family: str, optimizer: str, momentum: float, **params: Any) -> ScheduleSpec:
    return ScheduleSpec(family, params, optimizer, momentum, granularity="step", epochs=3)


def test_reused_trainer_trains_per_step_specs_as_fresh_ones(small: Dataset) -> None:
    specs = [
        _spec("step", "sgd", 0.9, **WARM_STEP),
        _spec("one_cycle", "sgd", 0.0, initial_lr=0.2, total_epochs=3),
        _spec("plateau", "sgd", 0.5, initial_lr=0.05),  # a callback: per epoch
        _spec("cosine", "adam", 0.0, initial_lr=0.01, decay_epochs=2, warmup_epochs=1),
        _spec("exponential", "sgd", 0.5, initial_lr=0.1, k=0.5, warmup_epochs=1.5, start_lr=0.0),
    ]
    reused_trainer = Trainer(small, "mlp", batch_size=64, reuse=True)
    reused = [reused_trainer.fit(s, 3, seed=5 + i) for i, s in enumerate(specs)]
    fresh_trainer = Trainer(small, "mlp", batch_size=64, reuse=False)
    fresh = [fresh_trainer.fit(s, 3, seed=5 + i) for i, s in enumerate(specs)]
    n = reused_trainer.steps_per_epoch
    assert n == 4
    for i, (r, f, s) in enumerate(zip(reused, fresh, specs, strict=True)):
        for key in ("loss", "val_loss", "learning_rate"):
            np.testing.assert_allclose(r[key], f[key], rtol=1e-5, err_msg=f"{i} {s.family} {key}")
        schedule = s.schedule
        if schedule is not None:  # the rate of each epoch's last step
            want = [schedule(e + (n - 1) / n) for e in range(3)]
            np.testing.assert_allclose(r["learning_rate"], want, rtol=1e-5)
    # one compiled model per optimizer kind and driver: sgd per step, sgd per epoch, adam
    assert len(reused_trainer._compiled) == 3
