"""``lrsearch find-lr``: the learning-rate range test on a dataset and model of the zoo."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from lrsearch.cli._common import add_task_argument
from lrsearch.cli._common import dataset_help
from lrsearch.errors import UsageError
from lrsearch.rangetest import MIN_AUTO_STEPS  # the floor of steps: one rule, in rangetest

HELP = "learning-rate range test: find a good initial learning rate"
DESCRIPTION = f"""\
Run the learning-rate range test (Smith, 2018): train a fresh model while the learning rate
rises exponentially batch by batch from --start-lr to --end-lr, record the smoothed training
loss, stop when it diverges, and read a learning rate off the curve. Three readings are
shown (the steepest descent, the minimum / 10, the valley); the suggestion is the lower of
the valley and the minimum / 10, the one that holds up as a constant rate, never a rate
from the diverging end of the curve. When the curve gives no clear answer, the output says
so instead of inventing a number. Without --num-steps the test runs at least
{MIN_AUTO_STEPS} steps, cycling through small datasets.

examples:
  lrsearch find-lr
  lrsearch find-lr --optimizer adam --plot lr_range_test.png
  lrsearch find-lr --dataset fashion_mnist --model cnn --subsample 20000 --format json
"""

#: options passed on to :func:`lrsearch.rangetest.range_test_on_data` under their own name
_TEST_ARGS = ("start_lr", "end_lr", "batch_size", "epochs", "num_steps", "seed")
#: options repeated in the JSON output
_SHOWN = ("dataset", "model", "optimizer", "start_lr", "end_lr", "batch_size")

#: rows of the curve printed by ``--format table``
TABLE_ROWS = 12


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``lrsearch find-lr``."""
    p.add_argument(
        "--dataset",
        default="digits",
        metavar="NAME|PATH",
        help="digits (default); " + dataset_help(),
    )
    add_task_argument(p, default="auto")
    p.add_argument(
        "--model",
        default="mlp",
        metavar="NAME|FILE.py:FUNC",
        help="mlp (default), cnn (images), or FILE.py:FUNC where FUNC(input_shape, n_outputs) "
        "returns an uncompiled keras.Model (n_outputs: classes, or 1 for regression)",
    )
    p.add_argument(
        "--optimizer",
        default="sgd",
        metavar="NAME",
        help="sgd (momentum 0.9, default), nesterov (momentum 0.9), adam, rmsprop, adagrad, "
        "adadelta",
    )
    p.add_argument(
        "--start-lr", type=float, default=1e-6, metavar="LR", help="first rate tried (1e-6)"
    )
    p.add_argument("--end-lr", type=float, default=10.0, metavar="LR", help="last rate (10)")
    p.add_argument("--batch-size", type=int, default=64, metavar="B", help="batch size (64)")
    p.add_argument(
        "--epochs",
        type=int,
        default=1,
        metavar="E",
        help="passes over the training data (1); see --num-steps",
    )
    p.add_argument(
        "--num-steps",
        type=int,
        default=None,
        metavar="N",
        help=f"steps of the test (default: --epochs passes over the training data, but at "
        f"least {MIN_AUTO_STEPS}, cycling through small datasets: fewer points give no "
        "readable curve)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of model and data (0)")
    p.add_argument(
        "--subsample",
        type=int,
        default=None,
        metavar="N",
        help="use N random examples of the dataset (e.g. 20000 of MNIST)",
    )
    p.add_argument("--plot", default=None, metavar="PNG", help="write the curve to this image")
    p.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table (default): a short summary; json: the whole curve and every reading",
    )


def _check_args(args: argparse.Namespace) -> None:
    start, end = args.start_lr, args.end_lr
    if not (math.isfinite(start) and start > 0):
        raise UsageError(f"--start-lr must be a positive number; received {start:g}.")
    if not (math.isfinite(end) and end > start):
        raise UsageError(
            f"--end-lr must be larger than --start-lr; received --start-lr {start:g} and "
            f"--end-lr {end:g}. Example: --start-lr 1e-6 --end-lr 10."
        )
    for option, value, low in (
        ("--batch-size", args.batch_size, 1),
        ("--epochs", args.epochs, 1),
        ("--num-steps", args.num_steps, 10),
    ):
        if value is not None and value < low:
            raise UsageError(f"{option} must be at least {low}; received {value}.")
    from lrsearch.optimizers import check_optimizer

    try:
        check_optimizer(args.optimizer)
    except ValueError as exc:
        raise UsageError(f"--optimizer: {exc}") from None
    if args.subsample is not None and args.subsample < 2:
        raise UsageError(f"--subsample must be at least 2; received {args.subsample}.")
    if args.plot is not None:
        _check_plot_path(args.plot)


def _check_plot_path(text: str) -> None:
    path = Path(text).expanduser()
    parent = path.parent if str(path.parent) else Path(".")
    if not text.strip() or path.name in ("", ".", ".."):
        raise UsageError(f"--plot needs a file name such as lr_range_test.png; received {text!r}.")
    if not parent.is_dir():
        raise UsageError(
            f"--plot {text}: the directory '{parent}' does not exist. Create it first or write "
            "the plot somewhere else."
        )
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--plot {text}: the directory '{parent}' is not writable.")
    if path.is_dir():
        raise UsageError(f"--plot {text} is a directory; give a file name such as lr_test.png.")
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("png", "pdf", "svg", "jpg", "jpeg"):
        raise UsageError(
            f"--plot {text}: cannot tell the image format from '{path.suffix or 'no suffix'}'. "
            "Use a .png (or .pdf, .svg, .jpg) file name."
        )


def _table(result: Any, args: argparse.Namespace, band: tuple[float, float] | None) -> str:
    lines = [
        f"learning-rate range test: dataset {args.dataset}, model {args.model}, "
        f"optimizer {args.optimizer}, {len(result.lrs)} steps from {args.start_lr:g} "
        f"to {args.end_lr:g}",
        "",
        f"{'learning rate':>14}  {'loss (smoothed)':>15}",
    ]
    n = len(result.lrs)
    rows = sorted({round(i * (n - 1) / (TABLE_ROWS - 1)) for i in range(TABLE_ROWS)}) if n else []
    for i in rows:
        lines.append(f"{result.lrs[i]:>14.3g}  {result.losses[i]:>15.4f}")
    lines.append("")
    if result.diverged_lr is not None:
        lines.append(f"stopped at lr {result.diverged_lr:.3g}: the loss diverged")
    readings = ", ".join(f"{k} {v:.3g}" for k, v in result.suggestions.items() if v is not None)
    if readings:
        lines.append(f"readings: {readings}")
    if result.suggested_lr is None:
        lines.append(f"no suggestion: {result.reason}")
    else:
        verdict = "confident" if result.confident else f"NOT confident: {result.reason}"
        lines.append(
            f"suggested learning rate: {result.suggested_lr:.3g} ({result.method}; {verdict})"
        )
    if band is not None:
        lines.append(f"search band for the initial learning rate: {band[0]:.3g} .. {band[1]:.3g}")
    if args.plot is not None:
        lines.append(f"plot written to {args.plot}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load the data, build and compile the model, run the test, report it."""
    _check_args(args)
    from lrsearch.data import check_dataset
    from lrsearch.data import check_task_for
    from lrsearch.data import load_dataset
    from lrsearch.models import check_model
    from lrsearch.quiet import import_tensorflow_quietly

    check_dataset(args.dataset)
    task = check_task_for(args.dataset, args.task)
    import_tensorflow_quietly()  # before a model file imports Keras: no start-up chatter
    check_model(args.model)
    dataset = load_dataset(args.dataset, seed=args.seed, subsample=args.subsample, task=args.task)
    if task == "auto":  # decided from a file's target: say so, and how to override it
        other = "regression" if dataset.task == "classification" else "classification"
        print(
            f"lrsearch find-lr: task: {dataset.describe_task()}; pass --task {other} to override.",
            file=sys.stderr,
        )
    from lrsearch.rangetest import range_test_on_data

    try:
        # Without --num-steps, find_lr's own floor applies (at least MIN_AUTO_STEPS steps).
        test_args = {k: vars(args)[k] for k in _TEST_ARGS}
        result = range_test_on_data(dataset, args.model, args.optimizer, **test_args)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    try:
        band: tuple[float, float] | None = result.band()
    except ValueError:
        band = None

    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7.0, 4.5), layout="constrained")
        result.plot(ax=ax)
        ax.set_title(
            f"LR range test: {args.model} on {args.dataset}, {args.optimizer}", fontsize="medium"
        )
        try:
            fig.savefig(args.plot, dpi=120)
        except OSError as exc:
            raise UsageError(f"--plot {args.plot}: cannot write the image ({exc}).") from None
        finally:
            plt.close(fig)

    if args.format == "json":
        from lrsearch.cli._common import print_json

        data = result.to_dict()
        data.update({k: vars(args)[k] for k in _SHOWN})
        data.update(band=list(band) if band is not None else None, plot=args.plot)
        print_json(data)
    else:
        print(_table(result, args, band))
    return 0
