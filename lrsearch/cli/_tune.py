"""``lrsearch tune``: run N more trials of a study."""

from __future__ import annotations

import argparse

from lrsearch.cli._common import add_config_argument
from lrsearch.cli._common import add_study_arguments
from lrsearch.cli._common import add_task_argument
from lrsearch.cli._common import dataset_help
from lrsearch.cli._common import parse_lr_range
from lrsearch.cli._common import parse_names

HELP = "run N more trials: search schedule families and their parameters"
DESCRIPTION = """\
Run N more trials of a study. Each trial draws a schedule family and its parameters (and the
optimizer, when several are given), trains a fresh Keras model with it, reports val_loss every
epoch, and is pruned when it falls behind. Running the same command again continues the study.

--config FILE reads a study definition (TOML, see studies/*.toml): any option below under its
name with underscores (study_name, storage, batch_size, initial_lr = [LOW, HIGH] or "auto",
families = ["step", "cosine"], ...), plus a [ranges] table of per-parameter search ranges.
Flags given on the command line override the file; defaults apply to what neither sets.

examples:
  lrsearch tune --trials 30 --epochs 20
  lrsearch tune --families step,cosine,one_cycle --optimizers sgd,adam --workers 2
  lrsearch tune --dataset data.csv --model my_model.py:build --initial-lr 0.001,0.5
  lrsearch tune --dataset diabetes --study-name diabetes      # regression (MSE, MAE)
  lrsearch tune --config studies/neptune_fashion_mnist.toml --trials 5
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    from lrsearch.schedules import FAMILIES

    add_config_argument(
        p,
        help="a study definition (TOML, e.g. studies/warmup.toml) setting any of these options; "
        "flags given here override it; relative paths in it are relative to the working "
        "directory",
    )
    p.add_argument("--trials", type=int, default=None, metavar="N", help="trials to run (20)")
    p.add_argument("--epochs", type=int, default=None, metavar="E", help="epochs per trial (20)")
    p.add_argument(
        "--dataset",
        default=None,
        metavar="NAME|PATH",
        help="digits (default); " + dataset_help(),
    )
    add_task_argument(p)
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME|FILE.py:FUNC",
        help="mlp (512-200, default), cnn (images), or FILE.py:FUNC where "
        "FUNC(input_shape, n_outputs) returns an uncompiled keras.Model (n_outputs: the "
        "number of classes, or 1 for regression)",
    )
    p.add_argument(
        "--families",
        default=None,
        metavar="A,B,...",
        help=f"families to search (default all): {', '.join(FAMILIES)}",
    )
    p.add_argument(
        "--optimizers",
        default=None,
        metavar="A,B",
        help="optimizers to search: sgd (with momentum, default), nesterov, adam, rmsprop, "
        "adagrad, adadelta",
    )
    p.add_argument(
        "--initial-lr",
        default=None,
        metavar="LOW,HIGH|auto",
        help="initial learning-rate range, searched log-uniformly (0.0001,1.0); 'auto' runs "
        "the LR range test first and searches inside the band it finds",
    )
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help="batch size (64)")
    add_study_arguments(p)
    p.add_argument(
        "--pruner",
        default=None,
        help="median (default), hyperband or none; pruning uses val_loss per epoch",
    )
    p.add_argument(
        "--seed", type=int, default=None, metavar="S", help="seed of sampler and data (0)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="W",
        help="trial processes on this machine, all recording into --storage (1)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=None,
        metavar="F",
        help="share of the data held out for validation when the dataset has no split (0.2)",
    )
    p.add_argument(
        "--subsample",
        type=int,
        default=None,
        metavar="N",
        help="use N random examples of the dataset (e.g. 20000 of Fashion-MNIST, as the articles)",
    )
    p.add_argument(
        "--no-schedule-aware-pruning",
        dest="schedule_aware_pruning",
        action="store_const",
        const=False,
        default=None,
        help="also prune warm-up families during their warm-up",
    )
    p.add_argument(
        "--progress",
        choices=("auto", "on", "off"),
        default=None,
        help="one line per trial on stderr: auto (when stderr is a terminal), on, off",
    )


def run(args: argparse.Namespace) -> int:
    from lrsearch.config import load_config
    from lrsearch.config import merge
    from lrsearch.storage import shown_url
    from lrsearch.tune import tune

    # Flags left out are None: the --config file's value applies, else the default.
    config = None if args.config is None else load_config(args.config)
    options = merge(
        config,
        {
            "trials": args.trials,
            "epochs": args.epochs,
            "dataset": args.dataset,
            "model": args.model,
            "task": args.task,
            "families": parse_names(args.families, "--families"),
            "optimizers": parse_names(args.optimizers, "--optimizers"),
            "initial_lr": None if args.initial_lr is None else parse_lr_range(args.initial_lr),
            "batch_size": args.batch_size,
            "storage": args.storage or None,
            "study_name": args.study_name or None,
            "pruner": args.pruner,
            "seed": args.seed,
            "workers": args.workers,
            "val_fraction": args.val_fraction,
            "subsample": args.subsample,
            "schedule_aware_pruning": args.schedule_aware_pruning,
            "progress": args.progress,
        },
    )
    result = tune(options)
    states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(result.states.items()))
    print(
        f"Ran {result.trials_run} trial{'' if result.trials_run == 1 else 's'} in study "
        f"{result.study_name!r} ({shown_url(result.storage)}); "
        f"the study now has {states}."
    )
    if result.best is not None:
        b = result.best
        print(f"Best: trial #{b['trial']} {b['family']} val_loss {b['value']:.4g}")
        where = (
            f"--config {args.config}"
            if args.config is not None and args.storage is None and args.study_name is None
            else f"--storage {shown_url(result.storage)} --study-name {result.study_name}"
        )
        print(f"Next: lrsearch best {where}")
    return 0
