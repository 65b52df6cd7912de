"""The Neptune article's experiment as a study, a report and an equal-budget comparison.

"How to choose a learning rate scheduler" (Neptune) trains one MLP (Flatten -> Dense 512 relu
-> Dense 200 relu -> softmax) on 20,000 Fashion-MNIST images (16,000 to train, 4,000 to
validate), batch size 64, with plain SGD under five schedules -- constant, time-based, step,
exponential and polynomial (linear) decay -- plus Adam, one run each with hand-picked
parameters, and compares the validation curves. Here:

1. a study (:func:`lrsearch.runner.tune`) searches those five families *and* their parameters,
   with SGD (no momentum, as the article) or Adam, pruning hopeless trials on val_loss;
2. a report (:func:`lrsearch.report.write_report`) draws the article's comparison views for
   each family's best trial: learning-rate curves, validation loss and accuracy per epoch,
   plus the optimisation history, the parameter importances and a per-family summary table;
3. with ``--seeds K``, the article's own settings (lr0 0.5, k 0.1, drop 0.8 every 10 epochs,
   decay lr0/epochs, linear decay; constant 0.01; Adam at Keras' default 0.001) trained on K
   seeds each (:func:`lrsearch.compare.compare`): means and spreads instead of single runs.

Everything lands in ``--out`` (the study database ``study.db`` included, so the command can be
re-run to add trials, and ``lrsearch dashboard --storage sqlite:///OUT/study.db`` shows it)::

    python examples/fashion_mnist_schedules.py --dataset digits --trials 12 --epochs 8
    python examples/fashion_mnist_schedules.py --trials 60 --epochs 100 --seeds 3   # article

``--dataset fashion_mnist`` (the default) needs the network once (Keras downloads it);
``--dataset digits`` runs offline in a minute or two on a laptop CPU.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

#: the article's five SGD schedules
FAMILIES = ("constant", "time_based", "step", "exponential", "polynomial")
#: the article's parameter neighbourhoods, searched around its hand-picked values
RANGES = {
    "momentum": 0.0,  # plain SGD, as the article
    "decay": (0.001, 0.1),  # time-based: the article's lr0 / epochs = 0.005
    "drop_rate": (0.5, 0.9),  # step: 0.8 ...
    "epochs_drop": (2, 10),  # ... every 10 epochs
    "k": (0.01, 0.5),  # exponential: 0.1
    "power": (0.5, 3.0),  # polynomial: 1 is the article's linear decay
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the example."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--dataset",
        default="fashion_mnist",
        help="fashion_mnist (default, 20,000 images; network once) or digits (offline), ...",
    )
    p.add_argument("--trials", type=int, default=30, help="trials of the study (30)")
    p.add_argument("--epochs", type=int, default=20, help="epochs per trial (20; article 100)")
    p.add_argument(
        "--seeds",
        type=int,
        default=0,
        help="also compare the article's settings on this many seeds (0: skip)",
    )
    p.add_argument("--out", default="fashion_mnist_schedules", help="output folder")
    p.add_argument("--seed", type=int, default=0, help="seed of sampler, split and models (0)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the study, write its report (and, with --seeds, the equal-budget comparison)."""
    args = parse_args(argv)
    from lrsearch.cli import quiet_warnings
    from lrsearch.compare import compare
    from lrsearch.compare import write_compare
    from lrsearch.errors import UsageError
    from lrsearch.report import write_report
    from lrsearch.runner import TuneOptions
    from lrsearch.runner import tune
    from lrsearch.storage import load_study

    quiet_warnings()  # Optuna's "experimental feature" notes say nothing to a reader here
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    subsample = 20000 if args.dataset in ("fashion_mnist", "mnist") else None
    options = TuneOptions(
        trials=args.trials,
        epochs=args.epochs,
        dataset=args.dataset,
        model="mlp",
        families=FAMILIES,
        optimizers=("sgd", "adam"),
        initial_lr=(1e-4, 1.0),
        batch_size=64,
        storage=f"sqlite:///{out / 'study.db'}",
        study_name="neptune-schedules",
        pruner="median",
        seed=args.seed,
        subsample=subsample,
        ranges=dict(RANGES),
        progress=True,
    )
    start = time.monotonic()
    try:
        result = tune(options)
        print(f"study: {result.trials_run} trials run, states {result.states}", flush=True)
        study = load_study(options.storage, options.study_name)
        report = write_report(
            study,
            out / "report",
            on_step=lambda s: print(f"report: {s.name}: {s.note or 'written'}", flush=True),
        )
        if args.seeds > 0:
            comparison = compare(
                families=[*FAMILIES, "constant:adam"],
                seeds=args.seeds,
                epochs=args.epochs,
                dataset=args.dataset,
                subsample=subsample,
                seed=args.seed,
                on_run=lambda p: print(
                    f"compare [{p.index}/{p.total}] {p.run.label} seed {p.run.seed}: best "
                    f"val_loss {p.run.best_val_loss or math.nan:.4f}",
                    flush=True,
                ),
            )
            write_compare(comparison, out / "compare")
            print(comparison.format_table())
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"\nreport: {report.out / 'summary.md'} ({len(report.files)} files)")
    print(f"dashboard: lrsearch dashboard --storage {options.storage}")
    print(f"done in {time.monotonic() - start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
