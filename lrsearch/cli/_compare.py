"""``lrsearch compare``: families trained K times on the same K seeds at the same budget."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lrsearch.cli._common import add_progress_argument
from lrsearch.cli._common import add_study_arguments
from lrsearch.cli._common import add_task_argument
from lrsearch.cli._common import parse_names
from lrsearch.cli._common import print_json
from lrsearch.cli._common import shows_progress

HELP = "train each family K times on the same seeds and budget: mean and spread, plots"
DESCRIPTION = """\
The articles' schedule comparison, done with seeds instead of a single run. Each family is
trained --seeds times (seeds S, S+1, ...: the same initial weights and batch order for every
family) for the same number of epochs on the same data split. Printed: the mean, standard
deviation, min and max of each family's best val_loss and best val_accuracy (lowest val_mae
for regression). Written to --out:

  compare_lr_curves.png     learning rate per epoch of each family
  compare_val_loss.png      validation loss per epoch, mean +- std band over the seeds
  compare_val_accuracy.png  validation accuracy per epoch, mean +- std band
                            (compare_val_mae.png for regression)
  compare.json              everything, with every run's per-epoch history
  compare.md                the table

What each family trains with: either the parameters of its best trial in a study
(--storage/--study-name; dataset, model, task and batch size default to the study's, and each
family trains for as many epochs as its trial ran; with --epochs E each is carried to E
epochs first, its durations scaled by E / the trial's epochs: tune short, train long), or
the articles' settings (--families; plain SGD, lr0 0.5, k 0.1, drop 0.8 every 10 epochs,
decay lr0/epochs, ...). A family may name an optimizer, e.g. constant:adam (the Neptune
article's Adam run: Keras' default rate 0.001).

examples:
  lrsearch compare --out compare/                        # the default study's best trials
  lrsearch compare --families constant,time_based,step,exponential,polynomial,constant:adam \\
      --seeds 5 --epochs 30 --out articles/
"""


#: options left out take the study's setting (without a study: the default in brackets)
_STUDY_SETTINGS: tuple[tuple[str, type, str, str], ...] = (
    (
        "--epochs",
        int,
        "E",
        "epochs per run, the same for every family (default: each study family's trial "
        "budget, or 20); a study's specs are carried to E (durations scaled)",
    ),
    ("--dataset", str, "NAME|PATH", "dataset (the study's, or digits); as for lrsearch tune"),
    ("--model", str, "NAME|FILE.py:FUNC", "model (the study's, or mlp); as for lrsearch tune"),
    ("--batch-size", int, "B", "batch size (the study's, or 64)"),
    ("--subsample", int, "N", "use N random examples of the dataset (the study's, or all)"),
)

#: the options that are keyword arguments of :func:`lrsearch.compare.compare` of the same name
_PASSED_ON = ("seeds", "epochs", "dataset", "model", "batch_size", "subsample", "task", "seed")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p)
    p.add_argument(
        "--families",
        default=None,
        metavar="A,B,...",
        help="compare the articles' settings of these families instead of a study's best "
        "trials (family or family:optimizer)",
    )
    p.add_argument("--seeds", type=int, default=3, metavar="K", help="runs per family (3)")
    for flag, kind, metavar, text in _STUDY_SETTINGS:
        p.add_argument(flag, type=kind, default=None, metavar=metavar, help=text)
    add_task_argument(p)
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="first seed; also splits the data (0)"
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder for plots and tables")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    add_progress_argument(p, "a line per training run")


def run(args: argparse.Namespace) -> int:
    from lrsearch.compare import RunProgress
    from lrsearch.compare import compare
    from lrsearch.compare import write_compare
    from lrsearch.report import check_out_dir

    families = parse_names(args.families, "--families")
    check_out_dir(args.out)  # a bad --out fails before any training (and creates nothing)
    show = shows_progress(args)

    def on_run(p: RunProgress) -> None:
        if not show:
            return
        r = p.run
        width = len(str(p.total))
        loss = "-" if r.best_val_loss is None else f"{r.best_val_loss:.4f}"
        best = r.best_val_metric
        acc = "-" if best is None else f"{best:.4f}"
        note = "  diverged" if r.diverged else ""
        print(
            f"[{p.index:>{width}}/{p.total}] {r.label:<22} seed {r.seed:<3} best val_loss "
            f"{loss}  best val_{r.metric} {acc}  ({r.seconds:.1f}s){note}",
            file=sys.stderr,
            flush=True,
        )

    def on_file(path: object) -> None:
        if show:
            print(f"wrote {path}", file=sys.stderr, flush=True)

    if families is not None:
        kwargs: dict[str, Any] = {"families": families}
        if args.storage is not None or args.study_name is not None:
            kwargs.update(storage=args.storage, study_name=args.study_name)
    else:
        from lrsearch.storage import default_storage
        from lrsearch.storage import default_study_name

        kwargs = {
            "storage": args.storage or default_storage(),
            "study_name": args.study_name or default_study_name(),
        }
    kwargs.update({name: getattr(args, name) for name in _PASSED_ON})
    result = compare(on_run=on_run, **kwargs)
    files = write_compare(result, args.out, on_file=on_file)
    if args.format == "json":
        data = result.to_dict(history=False)
        data["files"] = [str(f) for f in files]
        print_json(data)
    else:
        print(result.format_table())
        print(f"\nWrote {len(files)} files to {args.out}: {', '.join(f.name for f in files)}")
    return 0
