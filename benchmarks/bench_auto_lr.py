"""``tune --initial-lr auto`` against the default range, same trials and epochs, over seeds.

Prints each seed's best validation loss for both, their means, and the ratio auto / default
(below 1: the range test helped). Run from the repository root:

    python benchmarks/bench_auto_lr.py --seeds 3 --trials 10 --epochs 8
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def best_value(initial_lr: object, seed: int, args: argparse.Namespace, folder: str) -> float:
    from lrsearch.runner import TuneOptions
    from lrsearch.runner import tune

    name = f"{'auto' if initial_lr == 'auto' else 'default'}-{seed}"
    result = tune(
        TuneOptions(
            trials=args.trials,
            epochs=args.epochs,
            dataset=args.dataset,
            families=tuple(args.families.split(",")) if args.families else None,
            initial_lr=initial_lr,  # type: ignore[arg-type]
            storage=f"sqlite:///{folder}/{name}.db",
            study_name=name,
            seed=seed,
            progress=False,
        )
    )
    assert result.best is not None
    return float(result.best["value"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--dataset", default="digits")
    p.add_argument("--families", default=None, help="comma-separated (default: all)")
    args = p.parse_args()
    from lrsearch.quiet import quiet_warnings

    quiet_warnings()
    print(
        f"best val_loss, tune --initial-lr auto vs the default range 1e-4..1, "
        f"{args.trials} trials x {args.epochs} epochs on {args.dataset}, seeds 0..{args.seeds - 1}"
    )
    auto, default = [], []
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(args.seeds):
            t0 = time.monotonic()
            d = best_value((1e-4, 1.0), seed, args, folder)
            t1 = time.monotonic()
            a = best_value("auto", seed, args, folder)
            t2 = time.monotonic()
            default.append(d)
            auto.append(a)
            print(
                f"seed {seed}: default {d:.4f} ({t1 - t0:.0f} s)   auto {a:.4f} ({t2 - t1:.0f} s)",
                flush=True,
            )
    md, ma = statistics.mean(default), statistics.mean(auto)
    print(f"mean best val_loss: default {md:.4f}, auto {ma:.4f}; ratio auto/default {ma / md:.3f}")


if __name__ == "__main__":
    main()
