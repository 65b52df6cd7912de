"""A reused compiled model trains exactly as a fresh one would (``Trainer(reuse=True)``).

``Trainer`` keeps one compiled model per optimizer kind and resets its weights and optimizer
state for every trial. These tests run the same sequence of specs (several optimizers and
families, plateau included) through ``Trainer(reuse=True)`` and ``Trainer(reuse=False)`` (a
fresh model per trial) with the same seeds, and compare every epoch's losses -- also right
after a trial that diverged, whose NaN weights and optimizer slots must not leak into the next.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest

from lrsearch.data import Dataset
from lrsearch.data import load_dataset
from lrsearch.space import ScheduleSpec
from lrsearch.training import Trainer

EPOCHS = 3
KEYS = ("loss", "val_loss", "learning_rate", "accuracy", "val_accuracy")


@pytest.fixture(scope="module")
def small() -> Dataset:
    """A slice of digits: 256 training examples (4 batches of 64, the last one full), 96 val."""
    d = load_dataset("digits", seed=0)
    return Dataset(
        name="digits-slice",
        x_train=d.x_train[:256],
        y_train=d.y_train[:256],
        x_val=d.x_val[:96],
        y_val=d.y_val[:96],
        n_classes=d.n_classes,
    )


def spec(
    family: str, optimizer: str = "sgd", momentum: float = 0.0, **params: Any
) -> ScheduleSpec:
    return ScheduleSpec(family=family, params=params, optimizer=optimizer, momentum=momentum)


def diverging(optimizer: str = "sgd") -> ScheduleSpec:
    """A learning rate so large that the loss is NaN within the first epoch."""
    if optimizer in ("sgd", "nesterov"):
        return spec("constant", optimizer, 0.9, initial_lr=1e6)
    return spec("constant", optimizer, initial_lr=1e10)  # adaptive steps need a larger one


def run(data: Dataset, specs: list[ScheduleSpec], *, reuse: bool) -> list[dict[str, list]]:
    trainer = Trainer(data, "mlp", batch_size=64, reuse=reuse)
    return [trainer.fit(s, EPOCHS, seed=10 + i) for i, s in enumerate(specs)]


def assert_same(reused: list[dict], fresh: list[dict], specs: list[ScheduleSpec]) -> None:
    assert len(reused) == len(fresh) == len(specs)
    for i, (r, f, s) in enumerate(zip(reused, fresh, specs, strict=True)):
        for key in KEYS:
            assert key in f, f"{key} missing from the fresh history of trial {i}"
            assert len(r[key]) == len(f[key]) == EPOCHS, (i, key)
            np.testing.assert_allclose(
                np.asarray(r[key], dtype=np.float64),
                np.asarray(f[key], dtype=np.float64),
                rtol=1e-5,
                err_msg=f"trial {i} ({s.optimizer}, {s.family}): {key} differs after reuse",
            )


def test_reused_sgd_trains_as_fresh_including_after_divergence(small: Dataset) -> None:
    specs = [
        spec("step", "sgd", 0.9, initial_lr=0.1, drop_rate=0.5, epochs_drop=1),
        spec("exponential", "sgd", 0.0, initial_lr=0.05, k=0.3),  # momentum 0: plain SGD
        diverging("sgd"),
        spec("cosine", "sgd", 0.5, initial_lr=0.2, decay_epochs=EPOCHS),
    ]
    reused = run(small, specs, reuse=True)
    fresh = run(small, specs, reuse=False)
    assert not np.all(np.isfinite(fresh[2]["loss"])), "the diverging trial did not diverge"
    assert np.all(np.isfinite(reused[3]["loss"])), "NaN leaked into the trial after divergence"
    assert_same(reused, fresh, specs)


@pytest.mark.slow
def test_reused_models_train_as_fresh_for_every_optimizer(small: Dataset) -> None:
    specs = [
        spec("step", "sgd", 0.9, initial_lr=0.1, drop_rate=0.5, epochs_drop=1),
        spec("cosine", "nesterov", 0.8, initial_lr=0.05, decay_epochs=EPOCHS),
        spec("time_based", "sgd", 0.0, initial_lr=0.3, decay=0.5),
        spec("plateau", "adam", initial_lr=0.01, factor=0.5, patience=1),
        spec("exponential", "adagrad", initial_lr=0.05, k=0.2),
        spec("linear_warmup", "rmsprop", initial_lr=0.002, start_lr=0.0005, warmup_epochs=2),
        spec("constant", "adadelta", initial_lr=1.0),
        diverging("adam"),
        spec(
            "warmup_cosine",
            "adam",
            initial_lr=0.005,
            start_lr=0.001,
            warmup_epochs=1,
            decay_epochs=EPOCHS - 1,
        ),
        diverging("nesterov"),
        spec("one_cycle", "nesterov", 0.9, initial_lr=0.1, total_epochs=EPOCHS),
        spec("plateau", "sgd", 0.9, initial_lr=0.05, factor=0.3, patience=1),
        spec("polynomial", "rmsprop", initial_lr=0.001, power=2.0, decay_epochs=EPOCHS),
    ]
    reused = run(small, specs, reuse=True)
    fresh = run(small, specs, reuse=False)
    for i in (7, 9):
        assert not np.all(np.isfinite(fresh[i]["loss"])), f"trial {i} did not diverge"
    assert_same(reused, fresh, specs)


class _Stop(Exception):
    pass


class _StopAfterFirstEpoch(keras.callbacks.Callback):
    """Raises out of ``fit`` at the end of epoch 0, as pruning or divergence detection does."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        raise _Stop


def test_reused_model_after_a_trial_interrupted_mid_fit(small: Dataset) -> None:
    """A trial left by an exception (pruned, diverged) leaves nothing behind for the next."""
    interrupted = spec("step", "sgd", 0.9, initial_lr=0.5, drop_rate=0.5, epochs_drop=1)
    after = spec("cosine", "sgd", 0.7, initial_lr=0.1, decay_epochs=EPOCHS)
    trainer = Trainer(small, "mlp", batch_size=64, reuse=True)
    with pytest.raises(_Stop):
        trainer.fit(interrupted, EPOCHS, seed=1, callbacks=[_StopAfterFirstEpoch()])
    reused = trainer.fit(after, EPOCHS, seed=2)
    fresh = Trainer(small, "mlp", batch_size=64, reuse=False).fit(after, EPOCHS, seed=2)
    assert_same([reused], [fresh], [after])


def test_one_compiled_model_per_optimizer_kind(small: Dataset) -> None:
    trainer = Trainer(small, "mlp", batch_size=64, reuse=True)
    trainer.fit(spec("constant", "sgd", 0.9, initial_lr=0.05), 1, seed=1)
    first = trainer._model_for(spec("constant", "sgd", 0.0, initial_lr=0.01), seed=2)
    again = trainer._model_for(
        spec("step", "sgd", 0.5, initial_lr=0.1, drop_rate=0.5, epochs_drop=1), seed=3
    )
    assert first is again
    fresh = trainer.build(3)
    for a, b in zip(again.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
