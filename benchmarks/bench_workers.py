"""Workers: ``lrsearch tune --workers 1`` vs ``--workers 2`` on this machine.

Each run is the real command line, ``lrsearch tune --trials N --epochs E --pruner none
--storage sqlite:///TMP/w.db ...``, in a fresh study. Throughput counts trial time only: the
span from the first trial's ``datetime_start`` to the last trial's ``datetime_complete`` as the
study records them (process start-up, TensorFlow import and data loading are outside it). The
wall time of the whole command is printed too. Runs alternate (1, 2, 2, 1, ...); medians.
Target: 2 workers at least 1.6x the trials per minute of 1 worker.

The peer, measured in the same rounds: the hand-written Optuna loop of ``bench_throughput.py``
(same MLP, data and batch), once as one process with TensorFlow's default threads, once as two
processes at once, each with its share of the cores (``TF_NUM_INTRAOP_THREADS`` and friends).
Its ratio is what this machine gives two processes training this model side by side: the
ceiling that lrsearch's ratio should be read against.

    python benchmarks/bench_workers.py --rounds 3 --trials 40 --epochs 8 --hand-trials 8
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SIMPLE_FAMILIES  # noqa: E402
from _common import child_env  # noqa: E402
from _common import median  # noqa: E402
from _common import ratio  # noqa: E402
from _common import run_child  # noqa: E402

from lrsearch.runner.workers import THREAD_VARIABLES  # noqa: E402


def lrsearch_binary() -> str:
    candidate = Path(sys.executable).parent / "lrsearch"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("lrsearch")
    if found is None:
        raise SystemExit("the lrsearch console script is not installed: pip install -e .")
    return found


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (and theirs)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cli(workers: int, a: argparse.Namespace, seed: int) -> dict[str, Any]:
    import optuna

    with tempfile.TemporaryDirectory(prefix="lrsearch-workers-") as tmp:
        storage = f"sqlite:///{tmp}/w.db"
        cmd = [
            lrsearch_binary(),
            "tune",
            "--trials",
            str(a.trials),
            "--epochs",
            str(a.epochs),
            "--pruner",
            "none",
            "--storage",
            storage,
            "--study-name",
            "bench",
            "--seed",
            str(seed),
            "--workers",
            str(workers),
            "--progress",
            "off",
        ]
        if a.families:
            cmd += ["--families", a.families]
        cpu0 = _children_cpu()
        t0 = time.perf_counter()
        proc = subprocess.run(
            cmd, cwd=tmp, env=child_env(), capture_output=True, text=True, timeout=3600
        )
        wall = time.perf_counter() - t0
        cpu = _children_cpu() - cpu0
        if proc.returncode != 0:
            tail = proc.stderr[-3000:]
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{tail}")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        trials = optuna.load_study(study_name="bench", storage=storage).get_trials(deepcopy=False)
        done = [t for t in trials if t.datetime_start and t.datetime_complete]
        span = (
            max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)
        ).total_seconds()
        busy = sum((t.datetime_complete - t.datetime_start).total_seconds() for t in done)
    return {
        "workers": workers,
        "trials": len(done),
        "span": span,
        "wall": wall,
        "cpu": cpu,
        "busy": busy,
        "per_minute": 60.0 * len(done) / span,
        "command": " ".join(cmd),
    }


def run_hand(processes: int, a: argparse.Namespace, seed: int) -> dict[str, Any]:
    """The hand-written loop as ``processes`` processes at once, each its share of the trials."""
    from concurrent.futures import ThreadPoolExecutor

    threads = str(max(1, (os.cpu_count() or 1) // processes))
    env = {name: threads for name in THREAD_VARIABLES} if processes > 1 else {}
    jobs = [
        {
            "tool": "hand",
            "trials": max(1, a.hand_trials // processes),
            "epochs": a.epochs,
            "batch_size": 64,
            "families": list(SIMPLE_FAMILIES),
            "pruner": "none",
            "seed": 1000 * seed + i,
        }
        for i in range(processes)
    ]
    with ThreadPoolExecutor(processes) as pool:
        results = list(pool.map(lambda job: run_child(job, env=env), jobs))
    trials = sum(r["trials"] for r in results)
    # each process's clock runs around its own trials; they overlap (all start together)
    per_minute = 60.0 * sum(r["trials"] / r["seconds"] for r in results)
    mean_trial = sum(r["seconds"] for r in results) / max(1, trials)
    return {"workers": processes, "trials": trials, "per_minute": per_minute, "mean": mean_trial}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    p.add_argument("--trials", type=int, default=40, help="trials per run (40)")
    p.add_argument("--epochs", type=int, default=8, help="epochs per trial (8)")
    p.add_argument("--families", default="", help="comma-separated (default: all families)")
    p.add_argument("--workers", default="1,2", help="worker counts to compare (1,2)")
    p.add_argument(
        "--hand-trials",
        type=int,
        default=8,
        help="trials of the hand-written loop per run, split over its processes; 0: skip (8)",
    )
    p.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    a = p.parse_args(argv)
    counts = [int(w) for w in a.workers.split(",")]
    print(
        f"# workers: lrsearch tune --workers {' vs '.join(map(str, counts))}, {a.trials} trials x "
        f"{a.epochs} epochs, pruner none, digits 512-200 MLP, {os.cpu_count()} cores; "
        f"{a.rounds} alternating rounds; trials/minute over the trials' own span",
        flush=True,
    )
    results: dict[int, list[dict]] = {w: [] for w in counts}
    hand: dict[int, list[dict]] = {w: [] for w in counts}
    for r in range(a.rounds):
        for w in counts if r % 2 == 0 else counts[::-1]:
            res = run_cli(w, a, seed=r)
            results[w].append(res)
            print(
                f"round {r + 1} workers {w}: {res['trials']} trials, span {res['span']:6.1f} s, "
                f"{res['per_minute']:5.1f} trials/min, wall {res['wall']:6.1f} s, "
                f"mean trial {res['busy'] / max(1, res['trials']):.2f} s, "
                f"cores busy {res['cpu'] / res['wall']:.2f} (CPU time / wall)",
                flush=True,
            )
            if a.hand_trials > 0:
                h = run_hand(w, a, seed=r)
                hand[w].append(h)
                print(
                    f"round {r + 1} hand loop x{w}: {h['trials']} trials, "
                    f"{h['per_minute']:5.1f} trials/min, mean trial {h['mean']:.2f} s",
                    flush=True,
                )
    print()
    per_min = {w: median([x["per_minute"] for x in results[w]]) for w in counts}
    wall = {w: median([x["wall"] for x in results[w]]) for w in counts}
    for w in counts:
        print(f"median workers {w}: {per_min[w]:.1f} trials/min (span), wall {wall[w]:.1f} s")
    base = counts[0]
    print()
    print(f"# ratios vs --workers {base}")
    for w in counts[1:]:
        r = ratio(per_min[w], per_min[base])
        print(
            f"workers {w}/{base}: trials/min {r:.2f}x (span), "
            f"wall-clock speed-up {ratio(wall[base], wall[w]):.2f}x"
        )
        paired = [
            ratio(x["per_minute"], b["per_minute"])
            for x, b in zip(results[w], results[base], strict=True)
        ]
        print(f"  per-round workers {w}/{base}: " + ", ".join(f"{v:.2f}" for v in paired))
        if a.hand_trials > 0:
            h_med = {c: median([x["per_minute"] for x in hand[c]]) for c in (base, w)}
            ceiling = ratio(h_med[w], h_med[base])
            print(
                f"hand-written loop x{w}/x{base} processes: trials/min {ceiling:.2f}x "
                f"({h_med[base]:.1f} -> {h_med[w]:.1f}); lrsearch reaches "
                f"{ratio(r, ceiling):.0%} of that scaling"
            )
        if (base, w) == (1, 2):
            verdict = "met" if r >= 1.6 else "NOT met"
            print(f"target workers 2 >= 1.6x workers 1: {r:.2f}x -> {verdict}")
    if a.json:
        out = {"lrsearch": {str(k): v for k, v in results.items()}}
        out["hand"] = {str(k): v for k, v in hand.items()}
        Path(a.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
