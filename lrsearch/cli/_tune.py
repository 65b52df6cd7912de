"""``lrsearch tune``: run N more trials of a study."""

from __future__ import annotations

import argparse
from typing import Any

from lrsearch.cli._common import add_config_argument
from lrsearch.cli._common import add_study_arguments
from lrsearch.cli._common import add_task_argument
from lrsearch.cli._common import dataset_help
from lrsearch.cli._common import optimizers_help
from lrsearch.cli._common import parse_lr_range
from lrsearch.cli._common import parse_names
from lrsearch.errors import UsageError
from lrsearch.pruners import PRUNERS

HELP = "run N more trials: search schedule families and their parameters"
DESCRIPTION = """\
Run N more trials of a study. Each trial draws a schedule family and its parameters (and the
optimizer, when several are given), trains a fresh Keras model with it, reports val_loss every
epoch, and is pruned when it falls behind. Running the same command again continues the study.

--config FILE reads a study definition (TOML, see studies/*.toml): any option below under its
name with underscores (study_name, storage, batch_size, initial_lr = [LOW, HIGH] or "auto"
or a table such as initial_lr = {adam = [1e-5, 1e-2]}, families = ["step", "cosine"], ...),
plus a [ranges] table of per-parameter search ranges. Flags given on the command line
override the file; defaults apply to what neither sets.

initial_lr is searched log-uniformly, by default in a range of each optimizer's own: sgd and
nesterov 1e-4..1, adam and rmsprop 1e-5..0.1, adagrad 1e-3..1, adadelta 0.01..10.

examples:
  lrsearch tune --trials 30 --epochs 20
  lrsearch tune --families step,cosine,one_cycle --optimizers sgd,adam --workers 2
  lrsearch tune --dataset data.csv --model my_model.py:build --initial-lr 0.001,0.5
  lrsearch tune --dataset diabetes --study-name diabetes      # regression (MSE, MAE)
  lrsearch tune --optimizers sgd,adam --initial-lr adam=1e-5,1e-2 --initial-lr sgd=1e-3,1
  lrsearch tune --config studies/neptune_fashion_mnist.toml --trials 5
  lrsearch tune --families step,cosine --warmup --granularity step   # warm-up, per-step rates
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
        help=f"optimizers to search (default sgd): {optimizers_help()}",
    )
    p.add_argument(
        "--initial-lr",
        action="append",
        default=None,
        metavar="LOW,HIGH|OPT=LOW,HIGH|auto",
        help="initial learning-rate range, searched log-uniformly. Default: each optimizer its "
        "own (sgd, nesterov 0.0001,1; adam, rmsprop 0.00001,0.1; adagrad 0.001,1; adadelta "
        "0.01,10). LOW,HIGH: one range for every optimizer. OPT=LOW,HIGH: that optimizer's "
        "range (repeat the flag for others: --initial-lr adam=1e-5,1e-2 --initial-lr "
        "sgd=1e-3,1; the others keep their defaults). 'auto': the LR range test, once per "
        "optimizer, and each searched inside the band it finds",
    )
    p.add_argument("--batch-size", type=int, default=None, metavar="B", help="batch size (64)")
    add_study_arguments(p)
    p.add_argument(
        "--pruner",
        default=None,
        help=f"{', '.join(PRUNERS)} (default halving: successive halving, a trial goes on past "
        "epochs 2, 4 and 10 only in the best third); pruning uses val_loss per epoch",
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
        "--granularity",
        choices=("epoch", "step"),
        default=None,
        help="epoch (default): the learning rate changes once per epoch; step: every step, "
        "inside the compiled train step, at the fractional epoch step/steps_per_epoch (the "
        "parameters still count epochs; the history records each epoch's last-step rate). Part "
        "of the study's identity",
    )
    p.add_argument(
        "--warmup",
        dest="warmup",
        action="store_const",
        const=True,
        default=None,
        help="also draw a linear warm-up (warmup_epochs, start_lr) on every family without one "
        "of its own (constant, time_based, step, exponential, polynomial, cosine, cyclical, "
        "cosine_restarts), from the warmup_epochs range (1..max(2, epochs/4); TOML [ranges])",
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
        help="progress on stderr (each epoch of the running trial, then one line per trial): "
        "auto (when stderr is a terminal), on, off",
    )
    p.add_argument(
        "--artifact-dir",
        metavar="DIR",
        default=None,
        help="where each trial's picture (learning rate and loss per epoch) is stored as an "
        "Optuna artifact for the dashboard (default: $LRSEARCH_ARTIFACT_DIR, else a folder "
        "beside a SQLite study file, e.g. studies/lrsearch-artifacts; other storages: none; "
        "off: no pictures)",
    )


def run(args: argparse.Namespace) -> int:
    from lrsearch.config import load_config
    from lrsearch.config import merge
    from lrsearch.runner import tune
    from lrsearch.storage import shown_url

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
            "initial_lr": parse_initial_lr(args.initial_lr),
            "batch_size": args.batch_size,
            "storage": args.storage or None,
            "study_name": args.study_name or None,
            "pruner": args.pruner,
            "seed": args.seed,
            "workers": args.workers,
            "val_fraction": args.val_fraction,
            "subsample": args.subsample,
            "warmup": args.warmup,
            "granularity": args.granularity,
            "schedule_aware_pruning": args.schedule_aware_pruning,
            "progress": args.progress,
            "artifact_dir": args.artifact_dir,
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


_LR_EXAMPLE = (
    "Examples: --initial-lr 0.001,0.5 (every optimizer), --initial-lr adam=1e-5,1e-2 "
    "--initial-lr sgd=1e-3,1 (per optimizer), --initial-lr auto."
)


def parse_initial_lr(values: list[str] | None) -> Any:
    """The ``--initial-lr`` flags given -> ``TuneOptions.initial_lr``.

    ``None`` (not given) stays ``None``; ``LOW,HIGH`` -> ``(low, high)``; ``auto``; each
    ``OPT=LOW,HIGH`` -> an entry of ``{optimizer: (low, high)}``. Repeated plain forms: the last
    wins; an optimizer named twice: its last range. Plain and ``OPT=`` forms together: an error.
    """
    if not values:
        return None
    from lrsearch.optimizers import OPTIMIZERS

    plain: Any = None
    per: dict[str, tuple[float, float]] = {}
    for text in values:
        if "=" not in text:
            plain = parse_lr_range(text)
            continue
        name, _, rng = text.partition("=")
        name = name.strip().lower()
        if name not in OPTIMIZERS:
            raise UsageError(
                f"--initial-lr {text}: unknown optimizer {name!r}. Name one of "
                f"{', '.join(OPTIMIZERS)} before the '=', e.g. --initial-lr adam=1e-5,1e-2."
            )
        if rng.strip().lower() == "auto":
            raise UsageError(
                f"--initial-lr {text}: 'auto' applies to every optimizer searched; pass "
                "--initial-lr auto alone, or give this optimizer a range, e.g. "
                f"--initial-lr {name}=1e-5,1e-2."
            )
        try:
            low_high = parse_lr_range(rng)
        except UsageError:
            raise UsageError(
                f"--initial-lr {text}: the range after '=' must be LOW,HIGH (two positive "
                f"numbers, low < high). {_LR_EXAMPLE}"
            ) from None
        assert not isinstance(low_high, str)  # "auto" was refused above
        per[name] = low_high
    if plain is not None and per:
        raise UsageError(
            "--initial-lr takes either one LOW,HIGH (or auto) for every optimizer or "
            "OPTIMIZER=LOW,HIGH per optimizer, not both (received "
            f"{' '.join('--initial-lr ' + v for v in values)}). Name each optimizer instead. "
            f"{_LR_EXAMPLE}"
        )
    return per if per else plain
