"""KerasTuner's own tuners vs ``OptunaSearch`` on one hypermodel and one budget.

The same hypermodel (digits MLP: ``units`` 32..256 step 32, ``activation``, ``dropout`` with a
conditional ``rate``, and the lrsearch schedule drawn by ``space.from_hp(hp)``), the same
``max_trials`` and epochs per trial, searched on ``val_loss`` by KerasTuner ``RandomSearch``,
``BayesianOptimization``, ``Hyperband`` (``max_epochs`` = the epochs per trial, one iteration:
it picks its own number of trials) and lrsearch's ``OptunaSearch`` (TPE + median pruning, the
defaults), each seed in a fresh process. Printed per tuner: the median best ``val_loss``, epochs
trained and wall time over the seeds, and each as a ratio to ``OptunaSearch``'s. The clock runs
around ``search`` only: building the tuner (KerasTuner's project folder, OptunaSearch's study
database) and starting TensorFlow come before it.

    .venv/bin/python benchmarks/bench_kerastuner.py            # --seeds 3 --trials 10 --epochs 6
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import child_env  # noqa: E402
from _common import median  # noqa: E402
from _common import ratio  # noqa: E402

TUNERS = ("random", "bayesian", "hyperband", "optuna")


def _run(tuner_name: str, seed: int, trials: int, epochs: int) -> dict[str, Any]:
    """One search in this process: best val_loss, epochs trained, seconds."""
    import keras
    import keras_tuner
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import lrsearch
    from lrsearch.kerastuner import OptunaSearch

    space = lrsearch.SearchSpace(
        families=["constant", "step", "cosine", "one_cycle"], initial_lr=(1e-3, 0.5), epochs=epochs
    )
    count = {"epochs": 0}

    class Count(keras.callbacks.Callback):
        def __deepcopy__(self, memo: dict[int, Any]) -> Count:
            return self  # KerasTuner copies callbacks per execution: keep one counter

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            count["epochs"] += 1

    class Model(keras_tuner.HyperModel):
        def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
            self.spec = space.from_hp(hp)
            model = keras.Sequential([keras.Input((64,))])
            units = hp.Int("units", 32, 256, step=32)
            model.add(
                keras.layers.Dense(units, activation=hp.Choice("activation", ["relu", "tanh"]))
            )
            dropout = hp.Boolean("dropout")
            with hp.conditional_scope("dropout", [True]):
                if dropout:
                    model.add(keras.layers.Dropout(hp.Float("rate", 0.05, 0.5, sampling="log")))
            model.add(keras.layers.Dense(10, activation="softmax"))
            model.compile(
                optimizer=self.spec.build_optimizer(), loss="sparse_categorical_crossentropy"
            )
            return model

        def fit(self, hp: Any, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
            if tuner_name != "optuna":  # OptunaSearch applies the drawn schedule by itself
                kwargs["callbacks"] = [*kwargs.pop("callbacks", []), *self.spec.callbacks()]
            return model.fit(*args, **kwargs)

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    common = dict(objective="val_loss", seed=seed, directory=tempfile.mkdtemp(), overwrite=True)
    if tuner_name == "random":
        tuner: Any = keras_tuner.RandomSearch(Model(), max_trials=trials, **common)
    elif tuner_name == "bayesian":
        tuner = keras_tuner.BayesianOptimization(Model(), max_trials=trials, **common)
    elif tuner_name == "hyperband":
        tuner = keras_tuner.Hyperband(Model(), max_epochs=epochs, factor=3, **common)
    else:
        tuner = OptunaSearch(Model(), max_trials=trials, **common)
    keras.ops.convert_to_numpy(keras.ops.ones((2, 2)) * 2)  # TensorFlow started before the clock
    start = time.perf_counter()
    tuner.search(
        x_train,
        y_train,
        epochs=epochs,
        batch_size=64,
        validation_data=(x_val, y_val),
        callbacks=[Count()],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    best = tuner.oracle.get_best_trials(1)[0]
    return {
        "tuner": tuner_name,
        "seed": seed,
        "best_val_loss": float(best.score),
        "epochs": count["epochs"],
        "trials": len(tuner.oracle.trials),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument(
        "--tuners",
        default=",".join(TUNERS),
        help=f"comma-separated subset of {','.join(TUNERS)} (optuna is always run)",
    )
    parser.add_argument("--json", help="write the raw results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        job = json.loads(args.child)
        print("RESULT " + json.dumps(_run(**job)), flush=True)
        return 0

    chosen = [t for t in TUNERS if t in {*args.tuners.split(","), "optuna"}]
    results: list[dict[str, Any]] = []
    for seed in range(args.seeds):
        order = chosen[seed % len(chosen) :] + chosen[: seed % len(chosen)]  # rotate the order
        for name in order:
            job = {"tuner_name": name, "seed": seed, "trials": args.trials, "epochs": args.epochs}
            proc = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(job)],
                capture_output=True,
                text=True,
                env=child_env(),
                timeout=3600,
            )
            line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if proc.returncode != 0 or not line:
                print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
                return 1
            result = json.loads(line[-1].removeprefix("RESULT "))
            results.append(result)
            print(
                f"seed {seed} {name:9s} best val_loss {result['best_val_loss']:.4f}  "
                f"epochs {result['epochs']:3d}  trials {result['trials']:2d}  "
                f"{result['seconds']:.1f} s",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))

    def med(name: str, key: str) -> float:
        return median([r[key] for r in results if r["tuner"] == name])

    print(
        f"\n{args.seeds} seeds x {args.trials} trials x {args.epochs} epochs, medians over seeds; "
        "ratios are tuner / OptunaSearch (val_loss: lower is better)"
    )
    print(
        f"{'tuner':26s} {'best val_loss':>13s} {'ratio':>6s} {'epochs':>7s} {'ratio':>6s} "
        f"{'wall s':>7s} {'ratio':>6s}"
    )
    labels = {
        "random": "RandomSearch",
        "bayesian": "BayesianOptimization",
        "hyperband": "Hyperband",
        "optuna": "OptunaSearch (TPE+median)",
    }
    for name in chosen:
        row = [med(name, k) for k in ("best_val_loss", "epochs", "seconds")]
        base = [med("optuna", k) for k in ("best_val_loss", "epochs", "seconds")]
        print(
            f"{labels[name]:26s} {row[0]:13.4f} {ratio(row[0], base[0]):6.2f} {row[1]:7.0f} "
            f"{ratio(row[1], base[1]):6.2f} {row[2]:7.1f} {ratio(row[2], base[2]):6.2f}"
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    raise SystemExit(main())
