"""``lrsearch best``: the winning schedule of a study."""

from __future__ import annotations

import argparse

from lrsearch.cli._common import add_config_argument
from lrsearch.cli._common import add_study_arguments
from lrsearch.cli._common import print_json
from lrsearch.cli._common import storage_of
from lrsearch.cli._common import study_name_of

HELP = "show the best schedule of a study, ready to paste into your model.fit"
DESCRIPTION = (
    HELP
    + """

JSON (--format json) has the keys family, params, value (best val_loss), trial, optimizer,
momentum, epochs, study_name and spec (for lrsearch.ScheduleSpec.from_dict).
"""
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p)
    add_config_argument(p)
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")


def run(args: argparse.Namespace) -> int:
    from lrsearch.storage import load_study
    from lrsearch.study import best_summary
    from lrsearch.study import format_table

    summary = best_summary(load_study(storage_of(args), study_name_of(args)))
    if args.format == "json":
        print_json(summary)
    else:
        print(format_table(summary))
    return 0
