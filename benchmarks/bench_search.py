"""Search efficiency: the best val_loss a study finds, and the epochs it spends finding it.

Each tool searches the same space (the families of a workload, ``initial_lr`` 1e-4..1 log,
SGD ``momentum`` 0..0.99, each family's own parameters with lrsearch's default ranges) for the
same digits split, the articles' 512-200 MLP, batch 64, the same trials x epochs:

* ``lrsearch``: ``lrsearch tune`` with its defaults (sampler, pruner, schedule-aware pruning),
  in-process ``tune(TuneOptions(...))``; ``lrsearch:NAME`` is the same with ``--pruner NAME``;
* ``lrsearch-noconstraint`` (and ``lrsearch-noconstraint:NAME``): the same with
  ``optuna.trial.Trial.set_constraint`` made a no-op in its child process, an ablation of the
  benchmark only: a diverged trial is still pruned, but the sampler is not told it was
  infeasible. Use it with ``--lr-range`` wide enough that trials diverge;
* ``hand``: a hand-written Optuna loop, ``TPESampler(seed)`` and
  ``MedianPruner(n_startup_trials=5, n_warmup_steps=1)`` through ``KerasPruningCallback``;
* ``kt-hyperband``: KerasTuner ``Hyperband(max_epochs=epochs, factor=3)`` (it decides its
  own number of trials);
* ``kt-bayesian``, ``kt-random``: KerasTuner ``BayesianOptimization`` and ``RandomSearch``
  with ``max_trials=trials`` (no early stopping: every trial trains every epoch).

Printed per seed, then over the seeds: the best val_loss (mean and standard deviation, lower
is better), epochs trained (the compute a user pays for), wall time of the search call, and the
share of diverged trials after the first 10 (what the sampler learnt about where training
breaks; the first 10's share beside it). Then the verdict: lrsearch's mean best against the
best peer's (target: within 2%) and its epochs against the hand loop's (target: at most 0.8x).
``--plot FILE.png`` draws the anytime curve: the best val_loss seen against cumulative epochs,
one line per tool, the median over seeds. Each run is a fresh process; the order of the tools
rotates per seed.
``--lr-range LOW,HIGH`` replaces the ``initial_lr`` range of every tool (the constraint
ablation: with and without ``set_constraint`` where training does diverge).

    python benchmarks/bench_search.py                       # 5 seeds x 30 trials x 15 epochs
    python benchmarks/bench_search.py --workload modern     # + warmup_cosine, wsd, one_cycle
    python benchmarks/bench_search.py --tools lrsearch,lrsearch-noconstraint --lr-range 1e-3,30
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import textwrap
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import run_child  # noqa: E402

#: the articles' five families (the Neptune article's SGD schedules)
ARTICLES = ("constant", "time_based", "step", "exponential", "polynomial")
#: ... and the modern ones with a warm-up the hand loop writes out too
WORKLOADS = {"articles": ARTICLES, "modern": (*ARTICLES, "warmup_cosine", "wsd", "one_cycle")}
TOOLS = ("lrsearch", "hand", "kt-hyperband", "kt-bayesian", "kt-random")
#: lrsearch with ``Trial.set_constraint`` a no-op in the child (not in the default tools)
NO_CONSTRAINT = "lrsearch-noconstraint"


def job_for(tool: str, a: argparse.Namespace, seed: int) -> dict[str, Any]:
    """The child-process job of ``tool`` for one seed."""
    job: dict[str, Any] = {
        "trials": a.trials,
        "epochs": a.epochs,
        "batch_size": 64,
        "families": list(WORKLOADS[a.workload]),
        "seed": seed,
    }
    if a.lr_range is not None:
        job["initial_lr"] = list(a.lr_range)
    name, _, pruner = tool.partition(":")
    if name in ("lrsearch", NO_CONSTRAINT):
        # pruner None: lrsearch tune's default; set_constraint False: _child.py's ablation
        job = {**job, "tool": "lrsearch", "pruner": pruner or None}
        return {**job, "set_constraint": False} if name == NO_CONSTRAINT else job
    if tool == "hand":
        return {**job, "tool": "hand", "pruner": "median"}
    tuner = tool.removeprefix("kt-")
    return {**job, "tool": "kerastuner", "tuner": tuner, "hyperband_factor": 3}


def anytime(curve: list[float | None]) -> list[float]:
    """Best val_loss seen after each cumulative epoch (``inf`` before the first finite one)."""
    best, out = math.inf, []
    for v in curve:
        if v is not None and v < best:
            best = v
        out.append(best)
    return out


def median_anytime(curves: list[list[float | None]]) -> list[float]:
    """Median over seeds of :func:`anytime`; a run that stopped keeps its final best."""
    runs = [anytime(c) for c in curves if c]
    if not runs:
        return []
    n = max(len(r) for r in runs)
    padded = [r + [r[-1]] * (n - len(r)) for r in runs]
    return [statistics.median(r[i] for r in padded) for i in range(n)]


def plot(results: dict[str, list[dict[str, Any]]], path: str, title: str) -> None:
    """The anytime plot: median best val_loss against cumulative epochs, one line per tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for tool, runs in results.items():
        med = median_anytime([r.get("curve") or [] for r in runs])
        xs = [i + 1 for i, v in enumerate(med) if math.isfinite(v)]
        ys = [v for v in med if math.isfinite(v)]
        ax.plot(xs, ys, label=tool, linewidth=2 if tool.startswith("lrsearch") else 1.2)
    ax.set_xlabel("cumulative epochs trained")
    ax.set_ylabel("best val_loss so far (median over seeds)")
    ax.set_yscale("log")
    ax.set_title(textwrap.fill(title, 90), fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _print_run(tool: str, res: dict[str, Any], note: str = "") -> None:
    div = "-" if res["diverged"] is None else res["diverged"]
    if res.get("infeasible"):  # the constraint ablation: lrsearch-noconstraint has none
        div = f"{div}, infeasible {res['infeasible']}"
    print(
        f"seed {res['seed']} {tool:<16} best val_loss {fmt(res['best_value'])} "
        f"({res['best_family'] or '-':<12}) epochs {res['epochs_trained']:4d}  "
        f"trials {res['trials']:3d}  pruned {res['pruned']:3d} (diverged {div})  "
        f"{res['seconds']:6.1f} s {note}".rstrip(),
        flush=True,
    )


def fmt(v: float | None) -> str:
    return "   -  " if v is None or not math.isfinite(v) else f"{v:.4f}"


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Mean and spread of best val_loss, mean epochs and seconds, diverged share after 10 (and
    in the first 10)."""
    vals = [r["best_value"] for r in runs if r["best_value"] is not None]
    after = sum(r.get("trials_after_10") or 0 for r in runs)
    div = sum(r.get("diverged_after_10") or 0 for r in runs)
    first = sum(r["trials"] - (r.get("trials_after_10") or 0) for r in runs)
    div_first = sum((r["diverged"] or 0) - (r.get("diverged_after_10") or 0) for r in runs)
    counted = runs[0].get("diverged") is not None  # KerasTuner's runs do not say
    return {
        "best": statistics.mean(vals) if vals else math.nan,
        "sd": statistics.stdev(vals) if len(vals) > 1 else 0.0,
        "epochs": statistics.mean(r["epochs_trained"] for r in runs),
        "seconds": statistics.mean(r["seconds"] for r in runs),
        "diverged_after_10": div / after if after and counted else math.nan,
        "diverged_first_10": div_first / first if first and counted else math.nan,
    }


def _plain(value: Any) -> Any:
    """A tuple as the list JSON gives back (to compare arguments with a ``--json`` file's)."""
    return list(value) if isinstance(value, tuple) else value


def lr_range(text: str) -> tuple[float, float]:
    """``LOW,HIGH`` -> ``(low, high)``, positive with low < high."""
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        msg = f"expected LOW,HIGH, e.g. 1e-3,30; got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not 0 < low < high:
        raise argparse.ArgumentTypeError(f"expected 0 < LOW < HIGH; got {text!r}")
    return low, high


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..K-1 (5)")
    p.add_argument("--first-seed", type=int, default=0, help="first seed (0)")
    p.add_argument("--trials", type=int, default=30, help="trials per search (30)")
    p.add_argument("--epochs", type=int, default=15, help="epochs per trial (15)")
    p.add_argument("--workload", choices=sorted(WORKLOADS), default="articles")
    p.add_argument(
        "--lr-range",
        type=lr_range,
        metavar="LOW,HIGH",
        help="initial_lr range of every tool, log-uniform (default: 1e-4,1, lrsearch's for SGD)",
    )
    p.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"subset of {','.join(TOOLS)}; lrsearch:PRUNER for lrsearch with --pruner PRUNER; "
        f"{NO_CONSTRAINT}[:PRUNER] for lrsearch with Trial.set_constraint a no-op",
    )
    p.add_argument(
        "--with",
        dest="with_",
        action="append",
        metavar="FILE",
        help="also show the runs of an earlier --json FILE of the same sizes and workload "
        "(not re-run; their wall times are that run's); repeatable; with --tools '' only those",
    )
    p.add_argument("--plot", metavar="PNG", help="write the anytime plot there")
    p.add_argument("--json", metavar="FILE", help="also write all results as JSON")
    a = p.parse_args(argv)
    tools = [t for t in a.tools.split(",") if t]
    seeds = range(a.first_seed, a.first_seed + a.seeds)
    title = (
        f"{a.workload} families ({','.join(WORKLOADS[a.workload])}), digits MLP 512-200, "
        f"{a.trials} trials x {a.epochs} epochs, seeds {seeds.start}..{seeds.stop - 1}"
    )
    if a.lr_range is not None:
        title += f", initial_lr {a.lr_range[0]:g}..{a.lr_range[1]:g}"
    print(f"# search efficiency: {title}", flush=True)
    results: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for path in a.with_ or []:
        earlier = json.loads(Path(path).read_text())
        same = ("trials", "epochs", "workload", "lr_range")  # lr_range: absent from older files
        theirs = {k: _plain(earlier["args"].get(k)) for k in same}
        if theirs != {k: _plain(getattr(a, k)) for k in same}:
            raise SystemExit(f"--with {path}: another experiment ({earlier['args']})")
        first = earlier["args"]["first_seed"]
        for tool, runs in earlier["results"].items():
            for j, res in enumerate(runs):
                res.setdefault("seed", first + j)
                results.setdefault(tool, []).append(res)
                _print_run(tool, res, f"(from {path}, not re-run)")
    for i, seed in enumerate(seeds if tools else ()):
        order = tools[i % len(tools) :] + tools[: i % len(tools)]
        for tool in order:
            res = {**run_child(job_for(tool, a, seed)), "seed": seed}
            results[tool].append(res)
            if a.json:  # after every run, so an interrupted benchmark keeps what it measured
                Path(a.json).write_text(json.dumps({"args": vars(a), "results": results}))
            _print_run(tool, res)

    print()
    print(
        "# over the seeds: best val_loss mean +- sd (lower is better), epochs trained, wall "
        "seconds of the search call, diverged share of the trials after the first 10 (and of "
        "the first 10)"
    )
    tools = list(results)
    if not tools:
        return 0
    sums = {t: summary(results[t]) for t in tools}
    for tool in tools:
        s = sums[tool]
        share = "  - " if math.isnan(s["diverged_after_10"]) else f"{s['diverged_after_10']:.0%}"
        first = s["diverged_first_10"]
        first_share = "" if math.isnan(first) else f" (first 10: {first:.0%})"
        print(
            f"{tool:<16} best {fmt(s['best'])} +- {s['sd']:.4f}  epochs {s['epochs']:6.1f}  "
            f"{s['seconds']:6.1f} s  diverged after 10: {share}{first_share}"
        )
    for tool in [t for t in tools if t.startswith(NO_CONSTRAINT)]:
        with_c = "lrsearch" + tool.removeprefix(NO_CONSTRAINT)
        if with_c in sums:
            s, w = sums[tool], sums[with_c]
            print(
                f"\nconstraint ablation: diverged share after the first 10, {with_c} "
                f"{w['diverged_after_10']:.1%} vs {tool} {s['diverged_after_10']:.1%}; mean best "
                f"{fmt(w['best'])} vs {fmt(s['best'])}; epochs {w['epochs']:.1f} vs "
                f"{s['epochs']:.1f}"
            )
    ours = [t for t in tools if t.startswith("lrsearch")]
    peers = [t for t in tools if not t.startswith("lrsearch")]
    if ours and peers:
        best_peer = min(peers, key=lambda t: sums[t]["best"])
        print()
        for tool in ours:
            s = sums[tool]
            rel = s["best"] / sums[best_peer]["best"]
            line = f"{tool}: mean best / best peer's ({best_peer}) {rel:.3f}x (target <= 1.02)"
            if "hand" in sums:
                rel = s["epochs"] / sums["hand"]["epochs"]
                line += f"; epochs / hand loop's {rel:.2f}x (target <= 0.80)"
            print(line)
    if a.plot:
        plot(results, a.plot, title)
        print(f"anytime plot: {a.plot}")
    if a.json:
        Path(a.json).write_text(json.dumps({"args": vars(a), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
