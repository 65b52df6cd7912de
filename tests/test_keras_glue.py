"""Keras glue: ScheduleCallback, PlateauCallback, InGraphSchedule and the one-driver rule."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import functools
import json
from typing import Any

import keras
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_digits

from lrsearch import schedules
from lrsearch.keras import InGraphSchedule
from lrsearch.keras import PlateauCallback
from lrsearch.keras import ScheduleCallback
from lrsearch.keras import build_optimizer
from lrsearch.space import ScheduleSpec


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int64")
    return x, y


def digits(n_train: int = 512, n_val: int = 128) -> tuple[np.ndarray, ...]:
    x, y = _digits()
    return x[:n_train], y[:n_train], x[n_train : n_train + n_val], y[n_train : n_train + n_val]


def tiny_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def compiled(optimizer: keras.optimizers.Optimizer, seed: int = 0) -> keras.Model:
    model = tiny_model(seed)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


class LrRecorder(keras.callbacks.Callback):
    """Reads the optimizer's learning rate after every batch: (global step, epoch, lr)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, int, float]] = []
        self.epoch = 0
        self.step = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.rows.append((self.step, self.epoch, lr))
        self.step += 1


class FrozenValLoss(keras.callbacks.Callback):
    """Replaces ``val_loss`` by a constant, so a plateau is certain (list it first)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["val_loss"] = 1.0


STEP = schedules.get("step", initial_lr=0.1, drop_rate=0.5, epochs_drop=2)


# ---------------------------------------------------------------------------------------------
# ScheduleCallback


def test_epoch_granularity_sets_and_records_the_rate() -> None:
    x, y, xv, yv = digits()
    model = compiled(keras.optimizers.SGD(0.9))
    recorder = LrRecorder()
    history = model.fit(
        x,
        y,
        batch_size=128,
        epochs=5,
        validation_data=(xv, yv),
        callbacks=[ScheduleCallback(STEP), recorder],
        verbose=0,
    )
    expected = [STEP(e) for e in range(5)]
    assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)
    assert len(recorder.rows) == 5 * 4
    for _, epoch, lr in recorder.rows:
        assert lr == pytest.approx(STEP(epoch), rel=1e-6)
    json.dumps(history.history)  # plain floats


def test_batch_granularity_counts_steps_from_the_start() -> None:
    x, y, xv, yv = digits()
    schedule = schedules.get("time_based", initial_lr=0.1, decay=0.01)
    model = compiled(keras.optimizers.SGD(0.1))
    recorder = LrRecorder()
    history = model.fit(
        x,
        y,
        batch_size=8,  # 64 steps per epoch, 256 steps in all
        epochs=4,
        callbacks=[ScheduleCallback(schedule, granularity="batch"), recorder],
        verbose=0,
    )
    assert len(recorder.rows) == 256
    for step, _, lr in recorder.rows:
        assert lr == pytest.approx(schedule(step), rel=1e-6), step
    assert round(recorder.rows[250][2], 4) == 0.0286  # the article's check
    # the rate each epoch's last step trained with (as the in-graph driver records it)
    assert_allclose(
        history.history["learning_rate"], [schedule(64 * e + 63) for e in range(4)], rtol=1e-6
    )


def test_batch_granularity_with_steps_per_epoch() -> None:
    x, y, _, _ = digits(n_train=256)
    schedule = schedules.get("cyclical", initial_lr=0.01, max_lr=0.1, step_size=5)
    model = compiled(keras.optimizers.SGD(0.5))
    recorder = LrRecorder()
    cb = ScheduleCallback(schedule, granularity="batch", steps_per_epoch=8)
    model.fit(x, y, batch_size=32, epochs=3, callbacks=[cb, recorder], verbose=0)
    assert [r[2] for r in recorder.rows] == pytest.approx(
        [schedule(t) for t in range(24)], rel=1e-6
    )


def test_schedule_callback_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="schedule"):
        ScheduleCallback(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="granularity='step'"):
        ScheduleCallback(STEP, granularity="step")
    with pytest.raises(ValueError, match="steps_per_epoch=0"):
        ScheduleCallback(STEP, steps_per_epoch=0)


# ---------------------------------------------------------------------------------------------
# One learning-rate driver


def test_spec_graph_driver_trains_and_records() -> None:
    x, y, xv, yv = digits()
    spec = ScheduleSpec("step", {"initial_lr": 0.1, "drop_rate": 0.5, "epochs_drop": 2})
    model = compiled(spec.build_optimizer(steps_per_epoch=4))
    assert isinstance(model.optimizer._learning_rate, InGraphSchedule)
    recorder = LrRecorder()
    history = model.fit(
        x,
        y,
        batch_size=128,
        epochs=5,
        validation_data=(xv, yv),
        callbacks=[*spec.callbacks(), recorder],
        verbose=0,
    )
    expected = [STEP(e) for e in range(5)]
    assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)
    # The in-graph rate is schedule(floor(iterations / 4)); read after step t, iterations is
    # already t + 1, so it shows the rate of the next step.
    assert len(recorder.rows) == 20
    for step, _, lr in recorder.rows:
        assert lr == pytest.approx(STEP((step + 1) // 4), rel=1e-6), step


@pytest.mark.slow
@pytest.mark.parametrize("family", [f for f in schedules.FAMILIES if f != "plateau"])
def test_graph_driver_every_family(family: str) -> None:
    x, y, _, _ = digits(n_train=128)
    params = schedules.REGISTRY[family].article_defaults(4)  # the articles' settings
    spec = ScheduleSpec(family, params, optimizer="sgd", momentum=0.5)
    model = compiled(spec.build_optimizer(steps_per_epoch=2))
    history = model.fit(x, y, batch_size=64, epochs=4, callbacks=spec.callbacks(), verbose=0)
    expected = spec.learning_rates(4)
    assert_allclose(history.history["learning_rate"], expected, rtol=1e-5, atol=1e-9)
    assert np.all(np.isfinite(history.history["loss"]))


def test_schedule_callback_on_foreign_schedule_object_raises_value_error() -> None:
    x, y, _, _ = digits(n_train=64)
    foreign = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    model = compiled(keras.optimizers.SGD(foreign))
    with pytest.raises(ValueError, match="LearningRateSchedule"):
        model.fit(x, y, epochs=1, callbacks=[ScheduleCallback(STEP)], verbose=0)
    other = schedules.get("constant", initial_lr=0.1)
    model = compiled(keras.optimizers.SGD(InGraphSchedule(other)))
    with pytest.raises(ValueError, match="LearningRateSchedule"):
        model.fit(x, y, epochs=1, callbacks=[ScheduleCallback(STEP)], verbose=0)


def test_plateau_callback_on_schedule_object_raises_value_error() -> None:
    x, y, xv, yv = digits(n_train=64)
    model = compiled(keras.optimizers.SGD(InGraphSchedule(STEP)))
    with pytest.raises(ValueError, match="float learning rate"):
        model.fit(
            x,
            y,
            epochs=1,
            validation_data=(xv, yv),
            callbacks=[PlateauCallback(initial_lr=0.1)],
            verbose=0,
        )


def test_plateau_spec_always_gets_a_float_rate() -> None:
    spec = ScheduleSpec("plateau", {"initial_lr": 0.2})
    for optimizer in (spec.build_optimizer(), spec.build_optimizer(steps_per_epoch=10)):
        assert not isinstance(
            optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule
        )
        assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.2)
    (callback,) = spec.callbacks()
    assert isinstance(callback, PlateauCallback)


def test_plateau_lowers_the_rate_after_patience_epochs() -> None:
    x, y, xv, yv = digits(n_train=128, n_val=64)
    model = compiled(keras.optimizers.SGD(0.7))  # PlateauCallback resets it to initial_lr
    plateau = PlateauCallback(initial_lr=0.1, factor=0.5, patience=2, verbose=0)
    recorder = LrRecorder()
    history = model.fit(
        x,
        y,
        batch_size=64,
        epochs=7,
        validation_data=(xv, yv),
        callbacks=[FrozenValLoss(), plateau, recorder],
        verbose=0,
    )
    # val_loss is 1.0 every epoch: best at epoch 0, then a reduction every 2 epochs.
    expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert_allclose(history.history["learning_rate"], expected, rtol=1e-6)
    for _, epoch, lr in recorder.rows:
        assert lr == pytest.approx(expected[epoch], rel=1e-6)


def test_plateau_respects_min_lr() -> None:
    x, y, xv, yv = digits(n_train=64, n_val=64)
    model = compiled(keras.optimizers.SGD(0.1))
    plateau = PlateauCallback(initial_lr=0.1, factor=0.1, patience=1, min_lr=0.005)
    history = model.fit(
        x,
        y,
        batch_size=64,
        epochs=5,
        validation_data=(xv, yv),
        callbacks=[FrozenValLoss(), plateau],
        verbose=0,
    )
    assert_allclose(history.history["learning_rate"], [0.1, 0.1, 0.01, 0.005, 0.005], rtol=1e-6)


def test_plateau_callback_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="factor=1.5"):
        PlateauCallback(initial_lr=0.1, factor=1.5)
    with pytest.raises(ValueError, match="initial_lr=0"):
        PlateauCallback(initial_lr=0)


# ---------------------------------------------------------------------------------------------
# Graph driver == callback driver


def _losses(optimizer: keras.optimizers.Optimizer, callbacks: list[Any]) -> list[float]:
    x, y, xv, yv = digits(n_train=256, n_val=64)
    model = compiled(optimizer, seed=7)
    history = model.fit(
        x,
        y,
        batch_size=32,
        epochs=4,
        shuffle=False,
        validation_data=(xv, yv),
        callbacks=callbacks,
        verbose=0,
    )
    h = history.history
    return [*h["loss"], *h["val_loss"], *h["learning_rate"]]  # the recorded rates agree too


def test_graph_and_callback_drivers_give_the_same_losses_per_epoch() -> None:
    spec = ScheduleSpec(
        "cosine", {"initial_lr": 0.5, "decay_epochs": 4}, optimizer="sgd", momentum=0.5
    )
    graph = _losses(spec.build_optimizer(steps_per_epoch=8), spec.callbacks())
    callback = _losses(spec.build_optimizer(), spec.callbacks())
    assert_allclose(graph, callback, rtol=1e-5)


def test_graph_and_callback_drivers_give_the_same_losses_per_step() -> None:
    schedule = schedules.get("one_cycle", initial_lr=0.5, total_epochs=32)
    graph = _losses(
        build_optimizer("nesterov", InGraphSchedule(schedule), momentum=0.8),
        [ScheduleCallback(schedule, granularity="batch")],
    )
    callback = _losses(
        build_optimizer("nesterov", schedule(0), momentum=0.8),
        [ScheduleCallback(schedule, granularity="batch")],
    )
    assert_allclose(graph, callback, rtol=1e-5)
