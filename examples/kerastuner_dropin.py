"""Drop lrsearch into a KerasTuner HyperModel you already have.

An ordinary KerasTuner script (a digits MLP whose width is a hyperparameter, RandomSearch on
validation loss). The lines marked ``# lrsearch`` add the learning-rate schedule family and
its parameters to the same search, under conditional scopes on ``family``:

    spec = space.from_hp(hp)                       # in build()
    optimizer=spec.build_optimizer()               # compile with it
    callbacks=[..., *spec.callbacks()]             # in fit()

Run it::

    python examples/kerastuner_dropin.py --trials 10 --epochs 10
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import tempfile
from typing import Any

import keras
import keras_tuner
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import lrsearch


def load_data(seed: int = 0) -> tuple[np.ndarray, ...]:
    """scikit-learn's bundled digits (8x8 images, 10 classes), scaled to [0, 1]; no network."""
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = digits.target.astype("int64")
    return tuple(train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y))


class DigitsHyperModel(keras_tuner.HyperModel):
    def __init__(self, space: lrsearch.SearchSpace) -> None:
        super().__init__()
        self.space = space  # lrsearch

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        self.spec = self.space.from_hp(hp)  # lrsearch
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Int("units", 32, 256, step=32), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=self.spec.build_optimizer(),  # lrsearch
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any):
        callbacks = [*kwargs.pop("callbacks", []), *self.spec.callbacks()]  # lrsearch
        return model.fit(*args, callbacks=callbacks, **kwargs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="KerasTuner max_trials")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--directory", default=None, help="KerasTuner's directory (default: a temporary one)"
    )
    args = parser.parse_args(argv)

    x_train, x_val, y_train, y_val = load_data(args.seed)
    space = lrsearch.SearchSpace(  # lrsearch
        initial_lr=(1e-3, 0.5), optimizers=("sgd", "adam"), epochs=args.epochs
    )
    with tempfile.TemporaryDirectory(prefix="kerastuner-") as tmp:
        tuner = keras_tuner.RandomSearch(
            DigitsHyperModel(space),
            objective="val_loss",
            max_trials=args.trials,
            seed=args.seed,
            directory=args.directory or tmp,
            project_name="lrsearch_dropin",
            overwrite=True,
        )
        tuner.search(
            x_train,
            y_train,
            epochs=args.epochs,
            batch_size=args.batch_size,
            validation_data=(x_val, y_val),
            verbose=0,
        )
        best_hp = tuner.get_best_hyperparameters(1)[0]
        best_trial = tuner.oracle.get_best_trials(1)[0]
        spec = space.from_hp(best_hp)

    print(f"trials: {len(tuner.oracle.trials)}")
    print(f"best val_loss: {best_trial.score:.4f}")
    print(f"best hyperparameters: {json.dumps(best_hp.values, sort_keys=True)}")
    print(f"best family: {spec.family}")
    print(f"best spec: {json.dumps(spec.to_dict(), sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
