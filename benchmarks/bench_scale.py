"""Scale of a study: what lrsearch's own machinery costs at 100 and at 2,000 trials.

A synthetic study shaped like ``lrsearch tune``'s (the articles' five families, 15 epochs, SGD
with momentum; every trial with its ``spec``, ``history``, intermediate values and picture
artifact) is built in a SQLite file opened as ``tune`` opens it (WAL), by the real
:class:`lrsearch.objective.Objective` with ``tune``'s trial views
(:class:`lrsearch.dashboard.TrialViews`), and a stand-in trainer that feeds it synthetic epoch
logs instead of fitting a model (the filling trials are drawn by Optuna's ``RandomSampler``, so
building 2,000 costs no TPE time). Then, at each size:

* ``per trial``: lrsearch's own seconds for one more trial, everything but the training: the
  ``tune`` sampler's ask and the space's suggest, the user attributes, 15 reports with the
  default pruner's decisions, the tell, and the trial's picture (median of ``--measure``
  trials); its part in the sampler (ask and suggest) is printed too;
* ``report``, ``best``, ``export``: the installed command line, wall seconds (a process that
  imports the package: the same start-up at every size), median of ``--runs`` runs;
* ``dashboard``: ``lrsearch dashboard`` serving the file, the study's API response
  (``/api/studies/ID``, what the study page loads): bytes and seconds;
* ``reading every trial``: Optuna's own ``RDBStorage._get_trials`` (ORM objects) against
  lrsearch's :func:`~lrsearch.storage_read.bulk_get_trials`, side by side on the same file
  (median of ``--measure`` alternated reads), and the ratio.

Targets (issue 19), at 2,000 trials: per trial under 0.15 s, ``report`` and the dashboard's
study response under 5 s, ``best`` and ``export`` flat (2,000 vs 100 within 1.5x)::

    python benchmarks/bench_scale.py                     # --sizes 100,2000 --measure 5 --runs 3
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FAMILIES = ("constant", "time_based", "step", "exponential", "polynomial")
EPOCHS = 15


class SyntheticTrainer:
    """``fit`` feeds the callbacks 15 epochs of plausible logs (loss falling at a drawn rate)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def fit(self, spec: Any, epochs: int, seed: int, callbacks: list[Any]) -> None:
        floor, speed = self.rng.uniform(0.07, 0.4), self.rng.uniform(0.1, 1.5)
        schedule = spec.schedule
        for epoch in range(epochs):
            loss = floor + 2.2 * math.exp(-speed * (epoch + 1))
            logs = {
                "loss": loss * 0.8,
                "val_loss": loss + self.rng.uniform(0, 0.02),
                "accuracy": 1 - loss / 3,
                "val_accuracy": 1 - loss / 2.8,
                "learning_rate": schedule(epoch) if schedule is not None else 0.01,
            }
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)


def _objective(seed: int, views: Any) -> Any:
    from lrsearch.objective import Objective
    from lrsearch.space import SearchSpace

    space = SearchSpace(families=FAMILIES, epochs=EPOCHS)
    trainer = SyntheticTrainer(seed)
    return Objective(space, trainer, epochs=EPOCHS, seed=seed, on_trial_end=views)  # type: ignore[arg-type]


def _views(storage_url: str) -> Any:
    """``tune``'s trial views: the dashboard note and the picture artifact beside the file."""
    from lrsearch.dashboard import TrialViews
    from lrsearch.dashboard import artifact_dir_for

    return TrialViews(artifact_dir_for(storage_url))


def build(storage: str, n: int) -> None:
    """A study of ``n`` synthetic trials, filled with the random sampler."""
    import optuna

    from lrsearch.pruners import make_pruner
    from lrsearch.storage import open_storage

    study = optuna.create_study(
        storage=open_storage(storage, create=True),
        study_name="scale",
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=make_pruner("none", EPOCHS),
    )
    with _views(storage) as views:
        study.optimize(_objective(0, views), n_trials=n, catch=())


def per_trial(storage: str, measure: int) -> tuple[float, float]:
    """Median seconds of one more trial with ``tune``'s sampler and pruner; of its ask+suggest."""
    import optuna

    from lrsearch.pruners import make_pruner
    from lrsearch.runner.search import make_sampler
    from lrsearch.storage import open_storage

    study = optuna.load_study(
        study_name="scale",
        storage=open_storage(storage, create=False),
        sampler=make_sampler(0, 1),
        pruner=make_pruner("halving", EPOCHS),
    )
    views = _views(storage)
    objective = _objective(1, views)
    whole, sampling = [], []
    for _ in range(measure):
        t0 = time.perf_counter()
        trial = study.ask()
        objective.space.suggest(trial)
        sampling.append(time.perf_counter() - t0)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)  # only the sampler timed here
        t0 = time.perf_counter()
        study.optimize(objective, n_trials=1, catch=())
        whole.append(time.perf_counter() - t0)
    views.close()
    return statistics.median(whole), statistics.median(sampling)


def _cli(args: list[str], runs: int) -> float:
    """Median wall seconds of ``runs`` runs of ``lrsearch ARGS`` (a new process each)."""
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lrsearch", *args], check=True, capture_output=True)
        seconds.append(time.perf_counter() - t0)
    return statistics.median(seconds)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dashboard(storage: str) -> tuple[int, float]:
    """Bytes and seconds of the dashboard's study response, served by ``lrsearch dashboard``."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lrsearch", "dashboard", "--storage", storage, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                studies = json.loads(urllib.request.urlopen(url + "/api/studies").read())
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("lrsearch dashboard did not answer")
        study_id = studies["study_summaries"][0]["study_id"]
        t0 = time.perf_counter()
        body = urllib.request.urlopen(f"{url}/api/studies/{study_id}").read()
        return len(body), time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait()


def read_all(storage: str, repeats: int) -> tuple[float, float]:
    """Median seconds to read every trial: Optuna's ORM query, lrsearch's Core read
    (:func:`lrsearch.storage_read.bulk_get_trials`), alternated on one storage."""
    import optuna

    from lrsearch.storage import open_storage
    from lrsearch.storage_read import bulk_get_trials

    rdb = open_storage(storage, create=False)
    study_id = rdb.get_study_id_from_name("scale")
    optunas, ours = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        optuna.storages.RDBStorage._get_trials(rdb, study_id, None, set(), -1)
        optunas.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        bulk_get_trials(rdb, study_id, None, set(), -1)
        ours.append(time.perf_counter() - t0)
    return statistics.median(optunas), statistics.median(ours)


def measure(n: int, tmp: str, repeats: int, runs: int) -> dict[str, float]:
    path = f"{tmp}/scale{n}.db"
    storage = f"sqlite:///{path}"
    t0 = time.perf_counter()
    build(storage, n)
    print(f"# built {n} trials in {time.perf_counter() - t0:.0f} s", flush=True)
    study = ["--storage", storage, "--study-name", "scale"]
    res: dict[str, float] = {"trials": n}
    res["per_trial"], res["sampling"] = per_trial(storage, repeats)
    res["read_optuna"], res["read_lrsearch"] = read_all(storage, repeats)
    res["best"] = _cli(["best", *study, "--format", "json"], runs)
    res["export"] = _cli(["export", *study, "--format", "csv"], runs)
    res["report"] = _cli(["report", *study, "--out", f"{tmp}/report{n}"], runs)
    res["dashboard_bytes"], res["dashboard_s"] = dashboard(storage)
    res["db_bytes"] = os.path.getsize(path)
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="100,2000", help="study sizes (100,2000)")
    p.add_argument("--measure", type=int, default=5, help="trials timed at each size (5)")
    p.add_argument(
        "--runs", type=int, default=3, help="runs of each command line, the median kept (3)"
    )
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    a = p.parse_args(argv)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lrsearch-scale-") as tmp:
        for n in (int(s) for s in a.sizes.split(",")):
            res = measure(n, tmp, a.measure, a.runs)
            rows.append(res)
            print(
                f"{n:5d} trials: per trial {res['per_trial']:.3f} s (sampler {res['sampling']:.3f}"
                f" s)  report {res['report']:.1f} s  best {res['best']:.2f} s  export "
                f"{res['export']:.2f} s  dashboard study {res['dashboard_bytes'] / 1e6:.2f} MB "
                f"{res['dashboard_s']:.2f} s  database {res['db_bytes'] / 1e6:.1f} MB",
                flush=True,
            )
            print(
                f"{'':13}reading every trial: Optuna's ORM query {res['read_optuna']:.3f} s, "
                f"lrsearch's Core read {res['read_lrsearch']:.3f} s "
                f"({res['read_optuna'] / res['read_lrsearch']:.1f}x faster)",
                flush=True,
            )
    if len(rows) > 1:
        lo, hi = rows[0], rows[-1]
        print(
            f"\n# {hi['trials']} vs {lo['trials']} trials: per trial "
            f"{hi['per_trial'] / lo['per_trial']:.1f}x ({hi['per_trial']:.3f} s, target < 0.15), "
            f"report {hi['report']:.1f} s (target < 5), dashboard study {hi['dashboard_s']:.1f} s "
            f"(target < 5), best {hi['best'] / lo['best']:.2f}x, export "
            f"{hi['export'] / lo['export']:.2f}x (flat: target < 1.5x)"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
