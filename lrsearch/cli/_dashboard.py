"""``lrsearch dashboard``: optuna-dashboard on the study database."""

from __future__ import annotations

import argparse
import sys

from lrsearch.cli._common import add_storage_argument
from lrsearch.cli._common import storage_of

HELP = "serve optuna-dashboard on the study database (each trial's learning-rate curve in it)"
DESCRIPTION = """\
Serve optuna-dashboard on a study database until Ctrl-C. Nothing is created: the database
must exist. It may be in use: on SQLite (WAL mode) `lrsearch tune` keeps writing while the
dashboard reads.

What lrsearch adds to the dashboard (written by `lrsearch tune`):
  - each trial's picture (an Optuna artifact, shown on the trial's page): its learning rate
    and training vs validation loss per epoch, the best epoch and where it stopped;
  - each trial's note: its schedule, a sketch of its learning-rate curve, and a table of
    epoch, learning rate, loss, val_loss and val_accuracy;
  - the study's note: the per-family summary (best val_loss, parameters, trials, pruned);
  - two graphs on the study page: the learning-rate curves and the validation loss of each
    family's best trial.
The objective is named val_loss; every trial's val_loss per epoch is its intermediate values.

examples:
  lrsearch dashboard                                  # studies/lrsearch.db on 127.0.0.1:8080
  lrsearch dashboard --storage sqlite:///studies/fmnist.db --port 8081
"""


def _port(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to 65535, received {text!r}"
        ) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_storage_argument(p)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface)",
    )
    p.add_argument(
        "--artifact-dir",
        metavar="DIR",
        default=None,
        help="the folder of the trials' pictures (default: $LRSEARCH_ARTIFACT_DIR, else the "
        "folder beside a SQLite study file, e.g. studies/lrsearch-artifacts)",
    )
    p.add_argument(
        "--port", type=_port, default=8080, metavar="P", help="port (8080; 0: any free port)"
    )


def run(args: argparse.Namespace) -> int:
    from lrsearch.dashboard import check_port
    from lrsearch.dashboard import serve
    from lrsearch.storage import shown_url

    check_port(args.port)

    def ready(url: str) -> None:
        shown = shown_url(storage_of(args))
        print(f"optuna-dashboard on {shown}: {url}  (Ctrl-C stops it)", flush=True)

    serve(
        storage_of(args),
        host=args.host,
        port=args.port,
        artifact_dir=args.artifact_dir,
        on_ready=ready,
    )
    print("Dashboard stopped.", file=sys.stderr)
    return 0
