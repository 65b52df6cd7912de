"""Shared pieces of the benchmarks: the peers, the child-process protocol, medians.

Each measured run happens in a fresh child process (``python benchmarks/_child.py JSON``) so
that TensorFlow's import and start-up, and whatever an earlier run left in the process, are
never mixed into a measurement. The child imports everything first, loads the data once, runs
one tiny TensorFlow op (thread pools), and only then starts the clock around the search call
itself; it prints one ``RESULT {json}`` line.

The peers are written the way a user would write them:

* ``hand``: an Optuna objective that builds the 512-200 MLP, compiles ``SGD(momentum)``, applies
  the family's formula with ``keras.callbacks.LearningRateScheduler``, prunes with
  ``optuna_integration.KerasPruningCallback(trial, "val_loss")``, calls ``model.fit`` on the
  numpy arrays with ``validation_data``, and calls ``keras.backend.clear_session()`` per trial.
* ``kerastuner``: a ``keras_tuner.HyperModel`` with the same MLP and a
  ``LearningRateScheduler`` from the hyperparameters, searched by ``RandomSearch`` or
  ``Hyperband``.

Both add ``keras.callbacks.TerminateOnNaN()``, so a diverging trial stops early in every tool
(lrsearch ends a diverged trial as pruned): no tool saves time by skipping NaN epochs that the
others train through.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: the families of the throughput benchmark (the hand loop implements their formulas)
SIMPLE_FAMILIES = ("step", "exponential", "time_based", "cosine")
#: families with a warm-up: schedule-aware pruning leaves them alone until it ends
WARMUP_FAMILIES = ("linear_warmup", "warmup_cosine", "wsd", "one_cycle")
#: the families of the pruning benchmark
PRUNING_FAMILIES = (*WARMUP_FAMILIES, "step", "exponential", "cosine")

HAND_FAMILIES = (*SIMPLE_FAMILIES, *WARMUP_FAMILIES)


# --------------------------------------------------------------------------- statistics


def median(values: Sequence[float]) -> float:
    """The median, ``nan`` for no values."""
    return statistics.median(values) if values else math.nan


def ratio(a: float, b: float) -> float:
    """``a / b``, ``nan`` when ``b`` is zero or missing."""
    return a / b if b and math.isfinite(b) and math.isfinite(a) else math.nan


# --------------------------------------------------------------------------- child processes


def child_env() -> dict[str, str]:
    """Environment of a child: quiet TensorFlow, the TensorFlow backend, no LRSEARCH_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LRSEARCH_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["KERAS_BACKEND"] = "tensorflow"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def run_child(
    job: dict[str, Any], *, timeout: float = 3600, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one measured job in a fresh Python process (``env``: extra variables); its result."""
    proc = subprocess.run(
        [sys.executable, str(HERE / "_child.py"), json.dumps(job)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**child_env(), **(env or {})},
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
    raise RuntimeError(f"child {job.get('tool')} failed (exit {proc.returncode}):\n{tail}")


# --------------------------------------------------------------------------- schedules


def hand_lr(family: str, p: dict[str, Any], epochs: int) -> Callable[[int], float]:
    """The family's formula, written out by hand (as a user's own loop would)."""
    lr0 = float(p["initial_lr"])
    if family == "constant":
        return lambda t: lr0
    if family == "polynomial":
        return lambda t: lr0 * (1.0 - min(t, epochs) / epochs) ** p["power"]
    if family == "step":
        return lambda t: lr0 * p["drop_rate"] ** math.floor(t / p["epochs_drop"])
    if family == "exponential":
        return lambda t: lr0 * math.exp(-p["k"] * t)
    if family == "time_based":
        return lambda t: lr0 / (1.0 + p["decay"] * t)
    if family == "cosine":
        return lambda t: lr0 * 0.5 * (1.0 + math.cos(math.pi * min(t, epochs) / epochs))
    start = lr0 * p.get("start_lr_factor", 0.0)
    warm = int(p.get("warmup_epochs", 0))
    if family == "linear_warmup":

        def linear_warmup(t: int) -> float:
            if warm <= 1 or t >= warm - 1:
                return lr0
            return start + t * (lr0 - start) / (warm - 1)

        return linear_warmup
    if family == "warmup_cosine":
        decay = max(1, epochs - warm)

        def warmup_cosine(t: int) -> float:
            if t < warm:
                return start + (lr0 - start) * t / warm
            return lr0 * 0.5 * (1.0 + math.cos(math.pi * min(t - warm, decay) / decay))

        return warmup_cosine
    if family == "wsd":
        decay = max(1, round(p["decay_fraction"] * epochs))
        total = max(epochs, warm + decay)

        def wsd(t: int) -> float:
            if t < warm:
                return lr0 * t / warm
            if t < total - decay:
                return lr0
            return lr0 - lr0 * min(1.0, (t - (total - decay)) / decay)

        return wsd
    if family == "one_cycle":
        total = max(2, epochs)
        first = p["pct_start"] * total - 1.0
        low = lr0 / p["div_factor"]
        end = low / 1e4

        def anneal(a: float, b: float, frac: float) -> float:
            return b + (a - b) / 2.0 * (math.cos(math.pi * frac) + 1.0)

        def one_cycle(t: int) -> float:
            if t <= first:
                return anneal(low, lr0, t / first if first > 0 else 1.0)
            return anneal(lr0, end, min(1.0, (t - first) / max(1e-9, total - 1 - first)))

        return one_cycle
    raise ValueError(f"the hand-written loop has no formula for {family!r}")


def _family_ranges(family: str, epochs: int) -> list[tuple[str, str, float, float, bool]]:
    """(name, kind, low, high, log) of a family's parameters: lrsearch's default ranges."""
    quarter = max(1, epochs // 4)
    warm = ("warmup_epochs", "int", 1, max(2, quarter), False)
    return {
        "step": [
            ("drop_rate", "float", 0.1, 0.9, False),
            ("epochs_drop", "int", 1, max(1, epochs // 2), False),
        ],
        "exponential": [("k", "float", 1e-3, 0.5, True)],
        "time_based": [("decay", "float", 1e-3, 1.0, True)],
        "cosine": [],
        "constant": [],
        "polynomial": [("power", "float", 0.5, 3.0, False)],
        "linear_warmup": [("start_lr_factor", "float", 0.01, 0.5, True), warm],
        "warmup_cosine": [("start_lr_factor", "float", 0.01, 0.5, True), warm],
        "wsd": [warm, ("decay_fraction", "float", 0.1, 0.5, False)],
        "one_cycle": [
            ("pct_start", "float", 0.1, 0.5, False),
            ("div_factor", "float", 5.0, 50.0, True),
        ],
    }[family]


#: the ``initial_lr`` range every tool searches unless a job gives its own (lrsearch's SGD default)
LR_RANGE = (1e-4, 1.0)


def lr_range_of(job: dict[str, Any]) -> tuple[float, float]:
    """The job's ``initial_lr`` range (``[low, high]``), else :data:`LR_RANGE`."""
    low, high = job.get("initial_lr") or LR_RANGE
    return float(low), float(high)


def suggest_optuna(
    trial: Any,
    families: Sequence[str],
    epochs: int,
    lr_range: tuple[float, float] = LR_RANGE,
) -> tuple[str, dict, float]:
    """A hand-written conditional Optuna search space: (family, params, momentum)."""
    family = trial.suggest_categorical("family", list(families))
    lr = trial.suggest_float("initial_lr", lr_range[0], lr_range[1], log=True)
    params: dict[str, Any] = {"initial_lr": lr}
    momentum = trial.suggest_float("momentum", 0.0, 0.99)
    for name, kind, low, high, log in _family_ranges(family, epochs):
        if kind == "int":
            params[name] = trial.suggest_int(name, int(low), int(high))
        else:
            params[name] = trial.suggest_float(name, low, high, log=log)
    return family, params, momentum


def define_hp(
    hp: Any, families: Sequence[str], epochs: int, lr_range: tuple[float, float] = LR_RANGE
) -> None:
    """The same space as KerasTuner hyperparameters (family parameters in conditional scopes)."""
    hp.Choice("family", list(families))
    hp.Float("initial_lr", lr_range[0], lr_range[1], sampling="log")
    hp.Float("momentum", 0.0, 0.99)
    for family in families:
        with hp.conditional_scope("family", [family]):
            for name, kind, low, high, log in _family_ranges(family, epochs):
                key = f"{family}/{name}"
                if kind == "int":
                    hp.Int(key, int(low), int(high))
                else:
                    hp.Float(key, low, high, sampling="log" if log else "linear")


def hp_params(hp: Any, epochs: int) -> tuple[str, dict[str, Any], float]:
    """(family, params, momentum) from KerasTuner hyperparameters defined by :func:`define_hp`."""
    family = hp.get("family")
    params: dict[str, Any] = {"initial_lr": hp.get("initial_lr")}
    for name, _kind, _low, _high, _log in _family_ranges(family, epochs):
        params[name] = hp.get(f"{family}/{name}")
    return family, params, hp.get("momentum")


# --------------------------------------------------------------------------- the peers


def build_mlp(input_shape: tuple[int, ...], n_classes: int) -> Any:
    """The articles' MLP: Flatten -> Dense 512 relu -> Dense 200 relu -> softmax."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Flatten(),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(200, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )


def compile_sgd(model: Any, lr: float, momentum: float) -> Any:
    import keras

    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=momentum),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def pruner_of(name: str, epochs: int) -> Any:
    """The pruners ``lrsearch tune --pruner`` uses, without sparing warm-ups."""
    from lrsearch.pruners import make_pruner

    return make_pruner(name, epochs, schedule_aware=False)


def run_hand(job: dict[str, Any], data: Any) -> dict[str, Any]:
    """The hand-written Optuna loop; returns (seconds, study) summary."""
    import time

    import keras
    import numpy as np
    import optuna
    from optuna_integration import KerasPruningCallback

    epochs, families, batch = job["epochs"], job["families"], job["batch_size"]

    def objective(trial: optuna.trial.Trial) -> float:
        family, params, momentum = suggest_optuna(trial, families, epochs, lr_range_of(job))
        keras.backend.clear_session()
        keras.utils.set_random_seed(job["seed"] + trial.number)
        model = compile_sgd(build_mlp(data.input_shape, data.n_classes), 0.01, momentum)
        last: dict[str, Any] = {}  # bookkeeping only: was a prune really a divergence?
        try:
            history = model.fit(
                data.x_train,
                data.y_train,
                batch_size=batch,
                epochs=epochs,
                validation_data=(data.x_val, data.y_val),
                callbacks=[
                    keras.callbacks.LearningRateScheduler(hand_lr(family, params, epochs)),
                    keras.callbacks.TerminateOnNaN(),
                    keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: last.update(logs)),
                    KerasPruningCallback(trial, "val_loss"),
                ],
                verbose=0,
            )
        except optuna.TrialPruned:
            if not np.isfinite(last.get("loss", 0.0)):
                trial.set_user_attr("pruned_reason", "diverged")
            raise
        if not np.all(np.isfinite(history.history["loss"])):
            trial.set_user_attr("pruned_reason", "diverged")
            raise optuna.TrialPruned("diverged")
        return float(min(history.history["val_loss"]))

    t0 = time.perf_counter()
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=job["seed"]),
        pruner=pruner_of(job["pruner"], epochs),
    )
    study.optimize(objective, n_trials=job["trials"])
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, **summarize_study(study, family_of=lambda t: t.params["family"])}


class _EpochCounter:
    """A callback counting epochs in a module global (KerasTuner deep-copies callbacks)."""

    count = 0
    #: every epoch's val_loss in training order (``None`` where not finite): the anytime curve
    val_losses: list[float | None] = []

    @classmethod
    def make(cls) -> Any:
        import keras

        class Counter(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                _EpochCounter.count += 1
                v = (logs or {}).get("val_loss")
                v = None if v is None or not math.isfinite(float(v)) else float(v)
                _EpochCounter.val_losses.append(v)

        return Counter()


def run_kerastuner(job: dict[str, Any], data: Any, directory: str) -> dict[str, Any]:
    """KerasTuner ``RandomSearch`` (``job["tuner"] == "random"``), ``BayesianOptimization``
    (``"bayesian"``) or ``Hyperband``."""
    import time

    import keras
    import keras_tuner as kt

    epochs, families, batch = job["epochs"], job["families"], job["batch_size"]

    class MLPHyperModel(kt.HyperModel):
        def build(self, hp: Any) -> Any:
            define_hp(hp, families, epochs, lr_range_of(job))
            return compile_sgd(
                build_mlp(data.input_shape, data.n_classes), 0.01, hp.get("momentum")
            )

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            family, params, _momentum = hp_params(hp, epochs)
            callbacks = [
                *kwargs.pop("callbacks", []),
                keras.callbacks.LearningRateScheduler(hand_lr(family, params, epochs)),
                keras.callbacks.TerminateOnNaN(),
            ]
            return model.fit(*args, callbacks=callbacks, **kwargs)

    common = {
        "objective": "val_loss",
        "seed": job["seed"],
        "directory": directory,
        "project_name": "bench",
        "overwrite": True,
        "max_consecutive_failed_trials": 1000,
    }
    t0 = time.perf_counter()
    if job["tuner"] == "hyperband":
        tuner: Any = kt.Hyperband(
            MLPHyperModel(),
            max_epochs=epochs,
            factor=job.get("hyperband_factor", 3),
            **common,
        )
    elif job["tuner"] == "bayesian":
        tuner = kt.BayesianOptimization(MLPHyperModel(), max_trials=job["trials"], **common)
    else:
        tuner = kt.RandomSearch(MLPHyperModel(), max_trials=job["trials"], **common)
    _EpochCounter.count = 0
    _EpochCounter.val_losses = []
    tuner.search(
        data.x_train,
        data.y_train,
        batch_size=batch,
        epochs=epochs,
        validation_data=(data.x_val, data.y_val),
        callbacks=[_EpochCounter.make()],
        verbose=0,
    )
    seconds = time.perf_counter() - t0
    trials = list(tuner.oracle.trials.values())
    scored = [t for t in trials if t.score is not None and math.isfinite(t.score)]
    best = min(scored, key=lambda t: t.score) if scored else None
    return {
        "seconds": seconds,
        "trials": len(trials),
        "epochs_trained": _EpochCounter.count,
        "best_value": None if best is None else float(best.score),
        "best_family": None if best is None else best.hyperparameters.get("family"),
        "pruned": 0,
        "pruned_warmup": 0,
        "diverged": None,
        "span": None,
        "curve": list(_EpochCounter.val_losses),
    }


def run_lrsearch(job: dict[str, Any], storage: str) -> dict[str, Any]:
    """``lrsearch tune`` in-process: ``tune(TuneOptions(...))``, timed around the call."""
    import time

    import optuna

    from lrsearch.runner import TuneOptions
    from lrsearch.runner import tune

    # keys absent from the job keep `lrsearch tune`'s defaults (bench_search measures those)
    given = {
        k: job[k]
        for k in ("pruner", "initial_lr", "warmup", "artifact_dir")
        if job.get(k) is not None
    }
    options = TuneOptions(
        trials=job["trials"],
        epochs=job["epochs"],
        dataset="digits",
        model="mlp",
        families=tuple(job["families"]) if job.get("families") else None,
        optimizers=tuple(job.get("optimizers") or ("sgd",)),
        batch_size=job["batch_size"],
        storage=storage,
        study_name="bench",
        seed=job["seed"],
        workers=job.get("workers", 1),
        schedule_aware_pruning=job.get("schedule_aware", True),
        granularity=job.get("granularity", "epoch"),
        progress=False,
        **given,
    )
    t0 = time.perf_counter()
    tune(options)
    seconds = time.perf_counter() - t0
    study = optuna.load_study(study_name="bench", storage=storage)
    return {"seconds": seconds, **summarize_study(study, lambda t: t.user_attrs.get("family"))}


def summarize_study(study: Any, family_of: Callable[[Any], str | None]) -> dict[str, Any]:
    """Trials, epochs trained (reported epochs), pruned counts, best, and the trials' span."""
    import optuna

    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.datetime_start and t.datetime_complete]
    span = None
    if finished:
        first = min(t.datetime_start for t in finished)
        last = max(t.datetime_complete for t in finished)
        span = (last - first).total_seconds()
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    complete = [
        t
        for t in trials
        if t.state == optuna.trial.TrialState.COMPLETE
        and t.value is not None
        and math.isfinite(t.value)
    ]
    best = min(complete, key=lambda t: t.value) if complete else None
    curve: list[float | None] = []  # every epoch's val_loss, trial after trial
    for t in sorted(trials, key=lambda t: t.number):
        curve.extend(
            v if v is not None and math.isfinite(v) else None
            for _, v in sorted(t.intermediate_values.items())
        )
    diverged = [
        t for t in pruned if str(t.user_attrs.get("pruned_reason", "")).startswith("diverged")
    ]
    return {
        "trials": len(trials),
        "epochs_trained": sum(len(t.intermediate_values) for t in trials),
        "best_value": None if best is None else float(best.value),
        "best_family": None if best is None else family_of(best),
        "pruned": len(pruned),
        "pruned_warmup": sum(1 for t in pruned if family_of(t) in WARMUP_FAMILIES),
        "diverged": len(diverged),
        # trials the sampler was told were infeasible (lrsearch's diverged constraint)
        "infeasible": sum(1 for t in trials if any(v > 0 for v in t.constraints.values())),
        # diverged trials after the first 10 (the sampler's start-up): what it learnt
        "diverged_after_10": sum(1 for t in diverged if t.number >= 10),
        "trials_after_10": sum(1 for t in trials if t.number >= 10),
        "span": span,
        "curve": curve,
    }
