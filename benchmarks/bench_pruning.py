"""Pruning: does schedule-aware pruning change which family wins, or do harm?

Over a few seeds, each tool searches the same families (warm-up ones: linear_warmup,
warmup_cosine, wsd, one_cycle; and step, exponential, cosine) on digits with the 512-200 MLP,
batch 64, the same trials x epochs, with pruning on:

* ``lrsearch-aware``: ``lrsearch tune --pruner median`` (schedule-aware: a warm-up family is
  not pruned before its warm-up ends);
* ``lrsearch-plain``: the same with ``--no-schedule-aware-pruning``;
* ``hand``: the hand-written Optuna loop with ``KerasPruningCallback`` and the same
  ``MedianPruner(n_startup_trials=5, n_warmup_steps=1)``;
* ``kt-hyperband``: KerasTuner ``Hyperband(max_epochs=epochs, factor=3)`` (Hyperband decides its
  own number of trials; its epochs trained are counted).

Printed per seed and as means: the best validation loss found, the epochs trained in total
(the compute spent), trials pruned (and how many of them were warm-up families), and which
family won. Each run is a fresh process; the order of the tools rotates per seed.

    python benchmarks/bench_pruning.py --seeds 3 --trials 12 --epochs 10
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PRUNING_FAMILIES  # noqa: E402
from _common import run_child  # noqa: E402

TOOLS = ("lrsearch-aware", "lrsearch-plain", "hand", "kt-hyperband")


def job_for(tool: str, a: argparse.Namespace, families: list[str], seed: int) -> dict:
    job = {
        "trials": a.trials,
        "epochs": a.epochs,
        "batch_size": 64,
        "families": families,
        "pruner": a.pruner,
        "seed": seed,
    }
    if tool.startswith("lrsearch"):
        return {**job, "tool": "lrsearch", "schedule_aware": tool == "lrsearch-aware"}
    if tool == "hand":
        return {**job, "tool": "hand"}
    return {**job, "tool": "kerastuner", "tuner": "hyperband", "hyperband_factor": 3}


def fmt(v: float | None) -> str:
    return "   -   " if v is None or not math.isfinite(v) else f"{v:.4f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..K-1 (3)")
    p.add_argument("--trials", type=int, default=12, help="trials per search (12)")
    p.add_argument("--epochs", type=int, default=10, help="epochs per trial (10)")
    p.add_argument("--pruner", default="median", help="median (default) or hyperband (Optuna)")
    p.add_argument("--families", default=",".join(PRUNING_FAMILIES))
    p.add_argument("--tools", default=",".join(TOOLS), help=f"subset of {','.join(TOOLS)}")
    p.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    a = p.parse_args(argv)
    tools = [t for t in a.tools.split(",") if t]
    families = [f for f in a.families.split(",") if f]
    print(
        f"# pruning: best val_loss / epochs trained / winning family, {a.trials} trials x "
        f"{a.epochs} epochs, Optuna pruner {a.pruner} (KerasTuner: Hyperband), families "
        f"{','.join(families)}; lrsearch schedule-aware pruning on vs off vs hand loop vs "
        f"KerasTuner; seeds 0..{a.seeds - 1}",
        flush=True,
    )
    results: dict[str, list[dict]] = {t: [] for t in tools}
    for seed in range(a.seeds):
        order = tools[seed % len(tools) :] + tools[: seed % len(tools)]
        for tool in order:
            res = run_child(job_for(tool, a, families, seed))
            results[tool].append(res)
            div = "-" if res["diverged"] is None else res["diverged"]
            print(
                f"seed {seed} {tool:<15} best val_loss {fmt(res['best_value'])} "
                f"({res['best_family'] or '-':<13}) epochs {res['epochs_trained']:4d}  "
                f"trials {res['trials']:3d}  pruned {res['pruned']:3d} "
                f"(warm-up {res['pruned_warmup']:2d}, diverged {div})"
                f"  {res['seconds']:6.1f} s",
                flush=True,
            )

    print()
    print(
        "# means over seeds: best val_loss (lower is better), epochs trained, pruned trials "
        "(of them warm-up families; pruned includes diverged trials), wins per family"
    )
    for tool in tools:
        rs = results[tool]
        vals = [r["best_value"] for r in rs if r["best_value"] is not None]
        mean_best = sum(vals) / len(vals) if vals else math.nan
        wins = Counter(r["best_family"] for r in rs)
        n = len(rs)
        epochs = sum(r["epochs_trained"] for r in rs) / n
        pruned = sum(r["pruned"] for r in rs) / n
        warm = sum(r["pruned_warmup"] for r in rs) / n
        print(
            f"{tool:<15} best {fmt(mean_best)}  epochs {epochs:6.1f}  pruned {pruned:4.1f} "
            f"(warm-up {warm:4.1f})  wins {dict(wins)}"
        )
    if "lrsearch-aware" in tools and "lrsearch-plain" in tools:
        aware, plain = results["lrsearch-aware"], results["lrsearch-plain"]
        same = sum(x["best_family"] == y["best_family"] for x, y in zip(aware, plain, strict=True))
        better = sum(
            (x["best_value"] or math.inf) <= (y["best_value"] or math.inf)
            for x, y in zip(aware, plain, strict=True)
        )
        print()
        print("# schedule-aware vs plain pruning (lrsearch, same seeds)")
        print(
            f"same winning family in {same}/{len(aware)} seeds; aware found an equal or lower "
            f"best val_loss in {better}/{len(aware)} seeds"
        )
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
