"""Throughput: ``lrsearch tune --pruner none`` vs a hand-written Optuna loop vs KerasTuner.

Same data (digits, fixed split ``load_dataset("digits", seed=0)``), same 512-200 MLP, batch 64,
same families (step, exponential, time_based, cosine), same trials x epochs, no pruning. Each
round runs every tool once, each in its own fresh process, in a rotating order; the clock runs
inside the child around the search call only (no imports, no TensorFlow start-up). lrsearch's
time includes everything ``tune()`` does (loading the data, checking the model, creating the
SQLite study, recording every trial); the hand loop uses an in-memory study.

    python benchmarks/bench_throughput.py --rounds 3 --trials 8 --epochs 8

``lrsearch-step`` is ``lrsearch tune --granularity step`` (the rate changes every step inside
the compiled train step); with both it and ``lrsearch`` the script prints their ratio (target:
per-step within 5% of per-epoch)::

    python benchmarks/bench_throughput.py --tools lrsearch,lrsearch-step --rounds 5

``lrsearch-nopic`` is ``lrsearch tune --artifact-dir off`` (no per-trial picture); with both it
and ``lrsearch`` the script prints their ratio (target: pictures on within 5% of off)::

    python benchmarks/bench_throughput.py --tools lrsearch,lrsearch-nopic --rounds 5
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SIMPLE_FAMILIES  # noqa: E402
from _common import median  # noqa: E402
from _common import ratio  # noqa: E402
from _common import run_child  # noqa: E402

TOOLS = ("lrsearch", "hand", "kerastuner")
#: every tool --tools accepts: ``lrsearch-step`` is lrsearch with ``--granularity step``
#: and ``lrsearch-nopic`` is lrsearch with ``--artifact-dir off`` (no per-trial pictures)
ALL_TOOLS = (*TOOLS, "lrsearch-step", "lrsearch-nopic")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    p.add_argument("--trials", type=int, default=8, help="trials per run (8)")
    p.add_argument("--epochs", type=int, default=8, help="epochs per trial (8)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--families", default=",".join(SIMPLE_FAMILIES))
    p.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help="subset of lrsearch,hand,kerastuner,lrsearch-step,lrsearch-nopic (the default leaves "
        "the last two out)",
    )
    p.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    a = p.parse_args(argv)
    tools = [t for t in a.tools.split(",") if t]
    unknown = sorted(set(tools) - set(ALL_TOOLS))
    if unknown:
        p.error(f"unknown tools {', '.join(unknown)}; choose among {', '.join(ALL_TOOLS)}")
    families = [f for f in a.families.split(",") if f]

    results: dict[str, list[dict]] = {t: [] for t in tools}
    print(
        f"# throughput: {a.trials} trials x {a.epochs} epochs, digits 512-200 MLP, batch "
        f"{a.batch_size}, families {','.join(families)}, pruner none; {a.rounds} alternating "
        "rounds, one fresh process per run, clock inside the process around the search only",
        flush=True,
    )
    for r in range(a.rounds):
        order = tools[r % len(tools) :] + tools[: r % len(tools)]
        for tool in order:
            job = {
                "tool": "lrsearch" if tool.startswith("lrsearch") else tool,
                "artifact_dir": "off" if tool == "lrsearch-nopic" else None,
                "granularity": "step" if tool == "lrsearch-step" else "epoch",
                "tuner": "random",
                "trials": a.trials,
                "epochs": a.epochs,
                "batch_size": a.batch_size,
                "families": families,
                "pruner": "none",
                "seed": r,
            }
            res = run_child(job)
            results[tool].append(res)
            print(
                f"round {r + 1} {tool:<10} {res['seconds']:7.2f} s  {res['trials']} trials  "
                f"{res['epochs_trained']} epochs  {res['trials'] / res['seconds']:.3f} trials/s  "
                f"{1000 * res['seconds'] / max(1, res['epochs_trained']):.0f} ms/epoch",
                flush=True,
            )

    print()
    med = {t: median([x["seconds"] for x in results[t]]) for t in tools}
    per_epoch = {
        t: median([x["seconds"] / max(1, x["epochs_trained"]) for x in results[t]]) for t in tools
    }
    for t in tools:
        print(
            f"median {t:<10} {med[t]:7.2f} s  {a.trials / med[t]:.3f} trials/s  "
            f"{1000 * per_epoch[t]:.0f} ms per epoch trained"
        )
    if "hand" in tools:
        print()
        print("# ratios vs the hand-written Optuna loop (median wall time of the trials)")
        for t in tools:
            if t == "hand":
                continue
            wall = ratio(med[t], med["hand"])
            print(
                f"{t}/hand: wall time {wall:.2f}x, throughput {ratio(1, wall):.2f}x, "
                f"time per epoch trained {ratio(per_epoch[t], per_epoch['hand']):.2f}x"
            )
            # paired per round as well: robust to a round that was slow for everyone
            paired = [
                ratio(x["seconds"], h["seconds"])
                for x, h in zip(results[t], results["hand"], strict=True)
            ]
            print(f"  per-round {t}/hand wall: " + ", ".join(f"{v:.2f}" for v in paired))
        if "lrsearch" in tools:
            w = ratio(med["lrsearch"], med["hand"])
            verdict = "met" if w <= 0.8 else "NOT met"
            print(f"target lrsearch wall <= 0.8x hand: {w:.2f}x -> {verdict}")
    if "lrsearch" in tools and "lrsearch-step" in tools:
        print()
        print("# --granularity step vs epoch (the same trials, the rate set every step in-graph)")
        w = ratio(med["lrsearch-step"], med["lrsearch"])
        paired = [
            ratio(x["seconds"], e["seconds"])
            for x, e in zip(results["lrsearch-step"], results["lrsearch"], strict=True)
        ]
        print(
            f"lrsearch-step/lrsearch: wall time {w:.3f}x, time per epoch trained "
            f"{ratio(per_epoch['lrsearch-step'], per_epoch['lrsearch']):.3f}x; per round "
            + ", ".join(f"{v:.3f}" for v in paired)
        )
        verdict = "met" if w <= 1.05 else "NOT met"
        print(f"target step wall <= 1.05x epoch: {w:.3f}x -> {verdict}")
    if "lrsearch" in tools and "lrsearch-nopic" in tools:
        print()
        print("# per-trial pictures on (lrsearch) vs off (lrsearch-nopic, --artifact-dir off)")
        w = ratio(med["lrsearch"], med["lrsearch-nopic"])
        paired = [
            ratio(x["seconds"], e["seconds"])
            for x, e in zip(results["lrsearch"], results["lrsearch-nopic"], strict=True)
        ]
        print(
            f"lrsearch/lrsearch-nopic: wall time {w:.3f}x; per round "
            + ", ".join(f"{v:.3f}" for v in paired)
        )
        verdict = "met" if w <= 1.05 else "NOT met"
        print(f"target pictures wall <= 1.05x off: {w:.3f}x -> {verdict}")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
