"""One measured run in a fresh process: ``python benchmarks/_child.py '{"tool": ..., ...}'``.

Imports and start-up happen before the clock starts (see ``_common``); prints one
``RESULT {json}`` line with the tool's summary, its measured seconds and the process's peak
resident memory.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _vm_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main(job: dict[str, Any]) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    # every import happens before the clock, the storage stack (SQLAlchemy, Alembic: the first
    # RDBStorage imports it) and KerasTuner included, for every tool alike
    import _common
    import alembic.command  # noqa: F401
    import alembic.migration  # noqa: F401
    import keras
    import keras_tuner  # noqa: F401
    import optuna
    import optuna.storages._rdb.storage  # noqa: F401
    import optuna_integration  # noqa: F401
    import tensorflow as tf

    import lrsearch.objective  # noqa: F401
    import lrsearch.runner  # noqa: F401
    import lrsearch.runner.progress  # noqa: F401
    import lrsearch.storage  # noqa: F401
    import lrsearch.training  # noqa: F401
    from lrsearch.data import load_dataset

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tf.get_logger().setLevel("ERROR")
    data = load_dataset("digits", seed=0)
    float(tf.reduce_sum(tf.constant([1.0, 2.0])))  # thread pools up before the clock
    keras.backend.clear_session()
    rss_before = _vm_kib("VmRSS")

    if job.get("set_constraint") is False:
        # benchmark-side ablation (bench_search's lrsearch-noconstraint): a diverged trial is
        # still pruned and recorded as diverged, but the sampler is not told it was infeasible
        def no_constraint(self: Any, key: str, value: float) -> None:
            return None

        optuna.trial.Trial.set_constraint = no_constraint  # type: ignore[method-assign]

    tool = job["tool"]
    with tempfile.TemporaryDirectory(prefix="lrsearch-bench-") as tmp:
        if tool == "lrsearch":
            result = _common.run_lrsearch(job, job.get("storage") or f"sqlite:///{tmp}/b.db")
        elif tool == "hand":
            result = _common.run_hand(job, data)
        elif tool == "kerastuner":
            result = _common.run_kerastuner(job, data, tmp)
        else:
            raise SystemExit(f"unknown tool {tool!r}")
    result["tool"] = tool
    result["rss_before_kib"] = rss_before
    result["rss_end_kib"] = _vm_kib("VmRSS")
    result["vm_hwm_kib"] = _vm_kib("VmHWM")
    result["ru_maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


if __name__ == "__main__":
    out = main(json.loads(sys.argv[1]))
    print("RESULT " + json.dumps(out), flush=True)
