"""``lrsearch best``: the winning schedule of a study."""

from __future__ import annotations

import argparse

from lrsearch.cli._common import add_config_argument
from lrsearch.cli._common import add_study_arguments
from lrsearch.cli._common import print_json
from lrsearch.cli._common import storage_of
from lrsearch.cli._common import study_name_of
from lrsearch.errors import UsageError

HELP = "show the best schedule of a study, ready to paste into your model.fit"
DESCRIPTION = (
    HELP
    + """

JSON (--format json) has the keys family, params, value (best val_loss), trial, optimizer,
momentum, granularity, epochs, tuned_epochs, study_name and spec (for
lrsearch.ScheduleSpec.from_dict).

--epochs E prints the winner carried to a budget of E epochs (tune short, train long): every
duration parameter (epochs_drop, decay_epochs, total_epochs, step_size, warmup_epochs,
first_decay_epochs, patience) scaled by E / the epochs the study ran, whole numbers rounded
(at least 1), rates unchanged; the code to paste trains for E epochs.
"""
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p)
    add_config_argument(p)
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="E",
        help="carry the winner to E epochs: its durations scaled by E / the study's epochs",
    )


def run(args: argparse.Namespace) -> int:
    from lrsearch.storage import load_study
    from lrsearch.study import best_summary
    from lrsearch.study import format_table

    if args.epochs is not None and args.epochs < 1:
        raise UsageError(
            f"--epochs must be a whole number >= 1 (received {args.epochs}): the budget to "
            "carry the winner to, e.g. --epochs 100."
        )
    summary = best_summary(load_study(storage_of(args), study_name_of(args)), args.epochs)
    if args.format == "json":
        print_json(summary)
    else:
        print(format_table(summary))
    return 0
