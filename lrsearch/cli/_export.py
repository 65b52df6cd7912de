"""``lrsearch export``: the trials table as CSV or JSON."""

from __future__ import annotations

import argparse
import sys

from lrsearch.cli._common import add_config_argument
from lrsearch.cli._common import add_study_arguments
from lrsearch.cli._common import storage_of
from lrsearch.cli._common import study_name_of
from lrsearch.errors import UsageError

HELP = "export the trials table (pandas) as CSV or JSON"
DESCRIPTION = (
    HELP
    + """

One row per trial: number, value (best val_loss), state, timings, params_* and user_attrs_*
(family, spec, history, pruned_reason...). Written to stdout, or to --out FILE. In CSV,
nested cells (history, spec) are JSON text: json.loads reads them back.
"""
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p)
    add_config_argument(p)
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    p.add_argument("--out", default=None, metavar="FILE", help="write here instead of stdout")


def run(args: argparse.Namespace) -> int:
    import json

    from lrsearch.storage import load_study
    from lrsearch.study import trials_csv
    from lrsearch.study import trials_records

    study = load_study(storage_of(args), study_name_of(args))
    if args.format == "csv":
        text = trials_csv(study)
    else:
        text = json.dumps(trials_records(study), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(
            f"Cannot write {args.out}: {exc.strerror}. Pass a writable --out path."
        ) from None
    return 0
