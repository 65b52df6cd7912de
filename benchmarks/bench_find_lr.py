"""Is ``find_lr``'s suggestion a rate you can train with? Against a grid, every bundled case.

For each bundled classification dataset (digits, breast_cancer, wine, iris) x model (mlp; cnn
where the examples are images: digits) x optimizer (sgd with momentum 0.9, adam), and each seed:
load the data split with that seed, run ``lrsearch.find_lr`` with its defaults on a freshly
built model, then train a fresh model (the same seed, so the same initial weights and split) for
``--epochs`` epochs at a constant rate, once at the suggestion and once at each rate of a
log-spaced grid (``--grid-points`` from ``--grid-low`` to ``--grid-high``); keep each run's best
validation loss (a run whose loss turns NaN counts as infinite). A case passes when, with
means over the seeds (validation sets of 30 to 360 examples make one seed's losses noisy)::

    mean val_loss(suggested) <= 1.6 * min over the grid of mean val_loss(rate) + 0.02

A case without a suggestion fails. ``ratio`` is the suggestion's mean val_loss over the grid's
best, ``of bound`` the same over the bound (at most 1 to pass: the slack matters where the
grid's best is close to 0), ``seeds ok`` counts the seeds that meet the bound on their own.
``--readings`` also trains at each of the curve's readings (steepest, valley, min_div_10) and
sums up how each would have done as the suggestion. Prints one row per case (and the per-seed
details unless ``--quiet``) and exits 1 when any case fails. From the repository root:

    .venv/bin/python benchmarks/bench_find_lr.py            # 10 cases x 3 seeds, ~18 min, 2 cores
    .venv/bin/python benchmarks/bench_find_lr.py --readings --json find_lr.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DATASETS = ("digits", "breast_cancer", "wine", "iris")
IMAGE_DATASETS = ("digits",)
OPTIMIZERS = ("sgd", "adam")
#: optimizer names of the benchmark -> (lrsearch optimizer, momentum); others: momentum 0
PEERS = {"sgd": ("sgd", 0.9), "plain_sgd": ("sgd", 0.0)}
RATIO = 1.6
SLACK = 0.02


def cases(datasets: list[str], models: list[str], optimizers: list[str]) -> list[tuple[str, ...]]:
    """(dataset, model, optimizer) for every combination that fits (cnn only on images)."""
    return [
        (d, m, o)
        for d in datasets
        for m in models
        if m != "cnn" or d in IMAGE_DATASETS
        for o in optimizers
    ]


def compiled_model(data: Any, model_name: str, optimizer: str, lr: float, seed: int) -> Any:
    """A fresh model of the zoo, compiled as ``lrsearch tune`` compiles it."""
    import keras

    from lrsearch.keras import build_optimizer
    from lrsearch.models import build_model
    from lrsearch.models import loss_and_metrics

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_model(model_name, data.input_shape, data.n_classes)
    loss, metrics = loss_and_metrics(model)
    name, momentum = PEERS.get(optimizer, (optimizer, 0.0))
    model.compile(
        optimizer=build_optimizer(name, lr, momentum=momentum), loss=loss, metrics=metrics
    )
    return model


def grid_lrs(args: argparse.Namespace) -> list[float]:
    """``--grid-points`` rates, log-spaced from ``--grid-low`` to ``--grid-high``."""
    low, high, n = args.grid_low, args.grid_high, args.grid_points
    return [low * (high / low) ** (i / (n - 1)) for i in range(n)]


def best_val_loss(
    data: Any, model_name: str, optimizer: str, lr: float, seed: int, args: argparse.Namespace
) -> float:
    """Best validation loss of ``--epochs`` epochs at the constant rate ``lr`` (inf: diverged)."""
    model = compiled_model(data, model_name, optimizer, lr, seed)
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_data=(data.x_val, data.y_val),
        shuffle=True,
        verbose=0,
    )
    finite = [float(v) for v in history.history["val_loss"] if math.isfinite(v)]
    return min(finite) if finite else math.inf


def run_seed(case: tuple[str, ...], seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """One seed of a case: the range test, then the suggestion, the readings and the grid."""
    from lrsearch.data import load_dataset
    from lrsearch.rangetest import find_lr

    dataset, model_name, optimizer = case
    data = load_dataset(dataset, seed=seed)
    model = compiled_model(data, model_name, optimizer, 1e-3, seed)
    result = find_lr(
        model,
        data.x_train,
        data.y_train,
        batch_size=args.batch_size,
        num_steps=args.num_steps,
        seed=seed,
    )

    def val(lr: float) -> float:
        return best_val_loss(data, model_name, optimizer, lr, seed, args)

    grid = [val(lr) for lr in grid_lrs(args)]
    suggested = result.suggested_lr
    suggested_val = val(suggested) if suggested is not None else math.nan
    readings: dict[str, Any] = {}
    if args.readings:
        for name, lr in result.suggestions.items():
            if lr is None:
                readings[name] = None
            elif suggested is not None and math.isclose(lr, suggested):
                readings[name] = [lr, suggested_val]
            else:
                readings[name] = [lr, val(lr)]
    return {
        "seed": seed,
        "n_train": len(data.y_train),
        "steps": len(result.lrs),
        "suggested_lr": suggested,
        "method": result.method,
        "confident": result.confident,
        "reason": result.reason,
        "suggestions": result.suggestions,
        "diverged_lr": result.diverged_lr,
        "val_loss": suggested_val,
        "grid": grid,
        "readings": readings,
    }


def bound(grid_best: float) -> float:
    """The most a suggestion's val_loss may be: 1.6 x the grid's best + 0.02."""
    return RATIO * grid_best + SLACK


def passes(val: float, grid_best: float) -> bool:
    return math.isfinite(val) and val <= bound(grid_best)


def readings_summary(rows: list[dict[str, Any]]) -> list[str]:
    """Each reading as if it were the suggestion: cases within the bound, worst share of it."""
    lines = []
    for name in ("steepest", "valley", "min_div_10", "suggested"):
        within, shares, missing = 0, [], 0
        for row in rows:
            vals = []
            for s in row["seeds"]:
                if name == "suggested":
                    vals.append(s["val_loss"])
                elif s["readings"].get(name) is not None:
                    vals.append(s["readings"][name][1])
            if len(vals) < len(row["seeds"]) or any(math.isnan(v) for v in vals):
                missing += 1
                continue
            share = statistics.fmean(vals) / bound(row["grid_best_val_loss"])
            shares.append(share)
            within += share <= 1.0
        worst = fmt(max(shares) if shares else None, ".2f")
        lines.append(
            f"  {name:<11} within the bound in {within}/{len(rows)} cases"
            f"{f' ({missing} without this reading)' if missing else ''}; worst: {worst} of it"
        )
    return lines


def run_case(case: tuple[str, ...], args: argparse.Namespace) -> dict[str, Any]:
    """All seeds of a case; the verdict compares means over the seeds."""
    t0 = time.monotonic()
    seeds = [run_seed(case, args.seed + k, args) for k in range(args.seeds)]
    lrs = grid_lrs(args)
    grid_mean = [statistics.fmean(s["grid"][i] for s in seeds) for i in range(len(lrs))]
    best = min(range(len(lrs)), key=grid_mean.__getitem__)
    has_all = all(s["suggested_lr"] is not None for s in seeds)
    val = statistics.fmean(s["val_loss"] for s in seeds) if has_all else math.nan
    per_seed = [passes(s["val_loss"], min(s["grid"])) for s in seeds]
    return {
        "dataset": case[0],
        "model": case[1],
        "optimizer": case[2],
        "suggested_lr": (
            statistics.geometric_mean(s["suggested_lr"] for s in seeds) if has_all else None
        ),
        "method": ",".join(sorted({str(s["method"]) for s in seeds})),
        "confident": sum(bool(s["confident"]) for s in seeds),
        "val_loss": val,
        "grid_lrs": lrs,
        "grid_mean": grid_mean,
        "grid_best_lr": lrs[best],
        "grid_best_val_loss": grid_mean[best],
        "ratio": val / grid_mean[best] if has_all and grid_mean[best] > 0 else math.nan,
        "of_bound": val / bound(grid_mean[best]) if has_all else math.nan,
        "passed": has_all and passes(val, grid_mean[best]),
        "seeds_passed": sum(per_seed),
        "seeds": seeds,
        "seconds": time.monotonic() - t0,
    }


def fmt(value: float | None, spec: str = ".3g") -> str:
    """``value`` formatted, ``-`` for ``None`` and NaN."""
    if value is None or math.isnan(value):
        return "-"
    return format(value, spec)


def print_details(row: dict[str, Any], args: argparse.Namespace) -> None:
    """Per seed: the suggestion, its val_loss, the grid's best; the readings; the grid."""
    lrs = row["grid_lrs"]
    for s in row["seeds"]:
        best = min(range(len(lrs)), key=s["grid"].__getitem__)
        verdict = "confident" if s["confident"] else f"NOT confident: {s['reason']}"
        print(
            f"    seed {s['seed']}: {s['steps']} steps, suggested {fmt(s['suggested_lr'])} "
            f"({s['method']}, {verdict}) -> {fmt(s['val_loss'], '.4f')}; grid best "
            f"{fmt(lrs[best])} -> {fmt(s['grid'][best], '.4f')}"
        )
        if args.readings:
            parts = [
                f"{name} {fmt(v[0])} -> {fmt(v[1], '.4f')}"
                for name, v in s["readings"].items()
                if v is not None
            ]
            print(f"      readings: {'; '.join(parts)}")
    pairs = zip(lrs, row["grid_mean"], strict=True)
    grid = ", ".join(f"{fmt(lr)}: {fmt(v, '.4f')}" for lr, v in pairs)
    print(f"    grid (mean val_loss): {grid}", flush=True)


def main() -> int:
    first_line = (__doc__ or "").splitlines()[0]
    p = argparse.ArgumentParser(description=first_line)
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    p.add_argument("--models", default="mlp,cnn", help="comma-separated (cnn: images only)")
    p.add_argument(
        "--optimizers",
        default=",".join(OPTIMIZERS),
        help="comma-separated: sgd (momentum 0.9), adam (default), plain_sgd (momentum 0), "
        "nesterov, rmsprop, ...",
    )
    p.add_argument("--epochs", type=int, default=8, help="epochs of each training run (8)")
    p.add_argument("--batch-size", type=int, default=32, help="of the test and the runs (32)")
    p.add_argument("--grid-points", type=int, default=6)
    p.add_argument("--grid-low", type=float, default=3e-3)
    p.add_argument("--grid-high", type=float, default=1.0)
    p.add_argument(
        "--num-steps", type=int, default=None, help="find_lr's num_steps (default: its own)"
    )
    p.add_argument("--seed", type=int, default=0, help="first seed (0)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per case (3)")
    p.add_argument(
        "--readings", action="store_true", help="also train at every reading of the curve"
    )
    p.add_argument("--quiet", action="store_true", help="the table only, no per-seed lines")
    p.add_argument("--json", default=None, metavar="FILE", help="write the raw results here")
    args = p.parse_args()

    try:
        from lrsearch.quiet import import_tensorflow_quietly
        from lrsearch.quiet import quiet_warnings
    except ImportError:  # the module's name before it became public
        from lrsearch._quiet import import_tensorflow_quietly
        from lrsearch._quiet import quiet_warnings

    quiet_warnings()
    import_tensorflow_quietly()

    todo = cases(args.datasets.split(","), args.models.split(","), args.optimizers.split(","))
    seeds = f"seeds {args.seed}..{args.seed + args.seeds - 1}"
    print(
        f"find_lr's suggestion vs a {args.grid_points}-point grid {args.grid_low:g}.."
        f"{args.grid_high:g}: best val_loss of {args.epochs} epochs at a constant rate, "
        f"batch {args.batch_size}, mean over {seeds}; "
        f"pass: suggested <= {RATIO:g} x grid best + {SLACK:g}",
        flush=True,
    )
    header = (
        f"{'dataset':<14}{'model':<6}{'opt':<5}{'suggested':>10}  {'method':<18}"
        f"{'val_loss':>9}{'grid lr':>9}{'grid val':>9}{'ratio':>7}{'of bound':>9}"
        f"{'seeds ok':>9}  result"
    )
    print(header)
    print("-" * len(header), flush=True)
    rows = []
    for case in todo:
        row = run_case(case, args)
        rows.append(row)
        print(
            f"{row['dataset']:<14}{row['model']:<6}{row['optimizer']:<5}"
            f"{fmt(row['suggested_lr']):>10}  {row['method']:<18}"
            f"{fmt(row['val_loss'], '.4f'):>9}{fmt(row['grid_best_lr']):>9}"
            f"{fmt(row['grid_best_val_loss'], '.4f'):>9}{fmt(row['ratio'], '.2f'):>7}"
            f"{fmt(row['of_bound'], '.2f'):>9}"
            f"{row['seeds_passed']:>5}/{args.seeds:<3}  {'pass' if row['passed'] else 'FAIL'}",
            flush=True,
        )
        if not args.quiet:
            print_details(row, args)
    failed = [r for r in rows if not r["passed"]]
    shares = [r["of_bound"] for r in rows if math.isfinite(r["of_bound"])]
    print("-" * len(header))
    print(
        f"{len(rows) - len(failed)}/{len(rows)} cases pass; the closest uses "
        f"{fmt(max(shares) if shares else None, '.2f')} of the bound; single seeds within it: "
        f"{sum(r['seeds_passed'] for r in rows)}/{len(rows) * args.seeds}; "
        f"{sum(r['seconds'] for r in rows):.0f} s"
    )
    if args.readings:
        print("each reading used as the suggestion (means over the seeds, as above):")
        print("\n".join(readings_summary(rows)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"args": vars(args), "rows": rows}, fh, indent=1, default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
