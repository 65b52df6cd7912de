"""Memory: peak resident memory of a 5-trial vs a 40-trial ``lrsearch tune`` run.

Each run is a fresh process running ``tune(TuneOptions(trials=N, epochs=3, pruner="none"))``
in-process on digits with the 512-200 MLP (all families by default). Peak = the process's
``ru_maxrss`` (equal to ``VmHWM``). The runs alternate (5, 40, 5, 40, ...) and the medians are
compared. Target: the 40-trial peak within 1.25x of the 5-trial peak.

    python benchmarks/bench_memory.py --rounds 2 --small 5 --large 40 --epochs 3
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median  # noqa: E402
from _common import ratio  # noqa: E402
from _common import run_child  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (2)")
    p.add_argument("--small", type=int, default=5, help="trials of the small run (5)")
    p.add_argument("--large", type=int, default=40, help="trials of the large run (40)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per trial (3)")
    p.add_argument("--families", default="", help="comma-separated (default: all families)")
    p.add_argument("--optimizers", default="sgd", help="comma-separated (sgd)")
    p.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    a = p.parse_args(argv)
    sizes = (a.small, a.large)
    print(
        f"# memory: peak RSS of lrsearch tune, {a.small} vs {a.large} trials x {a.epochs} epochs, "
        f"pruner none, digits 512-200 MLP, optimizers {a.optimizers}; {a.rounds} alternating "
        "rounds, one fresh process per run",
        flush=True,
    )
    results: dict[int, list[dict]] = {n: [] for n in sizes}
    for r in range(a.rounds):
        for n in sizes if r % 2 == 0 else sizes[::-1]:
            job = {
                "tool": "lrsearch",
                "trials": n,
                "epochs": a.epochs,
                "batch_size": 64,
                "families": [f for f in a.families.split(",") if f],
                "optimizers": [o for o in a.optimizers.split(",") if o],
                "pruner": "none",
                "seed": r,
            }
            res = run_child(job)
            results[n].append(res)
            print(
                f"round {r + 1} {n:>3} trials: peak {res['ru_maxrss_kib'] / 1024:7.1f} MiB  "
                f"(after imports {res['rss_before_kib'] / 1024:7.1f} MiB, at the end "
                f"{res['rss_end_kib'] / 1024:7.1f} MiB)  {res['seconds']:.1f} s",
                flush=True,
            )
    peak = {n: median([x["ru_maxrss_kib"] for x in results[n]]) for n in sizes}
    base = median([x["rss_before_kib"] for n in sizes for x in results[n]])
    print()
    for n in sizes:
        print(f"median peak {n:>3} trials: {peak[n] / 1024:.1f} MiB")
    print()
    print(f"# ratio peak RSS {a.large} trials / {a.small} trials")
    r = ratio(peak[a.large], peak[a.small])
    growth = (peak[a.large] - peak[a.small]) / (a.large - a.small)
    above = ratio(peak[a.large] - base, peak[a.small] - base)
    print(f"peak {a.large}/{a.small}: {r:.3f}x  ({growth:.0f} KiB per extra trial)")
    print(f"above the after-imports baseline ({base / 1024:.0f} MiB): {above:.2f}x")
    verdict = "met" if r <= 1.25 else "NOT met"
    print(f"target peak {a.large}/{a.small} <= 1.25x: {r:.3f}x -> {verdict}")
    if a.json:
        Path(a.json).write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
