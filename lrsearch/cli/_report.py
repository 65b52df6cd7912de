"""``lrsearch report``: the plots and the summary table of a study, as files."""

from __future__ import annotations

import argparse
import sys

from lrsearch.cli._common import add_config_argument
from lrsearch.cli._common import add_progress_argument
from lrsearch.cli._common import add_study_arguments
from lrsearch.cli._common import shows_progress
from lrsearch.cli._common import storage_of
from lrsearch.cli._common import study_name_of

HELP = "write a study's plots (PNG) and per-family summary table into a folder"
DESCRIPTION = """\
Write the report of a study into --out (created if needed):

  lr_curves.png             learning rate per epoch of each family's best trial, one axis
  val_loss.png              validation loss per epoch of each family's best trial
  val_accuracy.png          validation accuracy per epoch of the same trials
  train_vs_val.png          training vs validation loss and accuracy of the same trials
  optimization_history.png  every trial's val_loss by trial number, and the best so far
  family_values.png         every trial's val_loss, grouped by family
  param_importances.png     Optuna's parameter importances (skipped with too few trials)
  summary.md, summary.csv   per family: best val_loss, its parameters, trials run, share pruned

A plot with nothing to draw yet is skipped, and summary.md says why. The study may still be
running: the report shows the trials finished so far.

examples:
  lrsearch report --out report/
  lrsearch report --storage sqlite:///studies/fmnist.db --study-name fmnist --out fmnist-report
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p)
    add_config_argument(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the files")
    add_progress_argument(p, "a line per file")


def import_importance_without_sklearn() -> None:
    """Import ``optuna.importance`` without scikit-learn, in this command's own process.

    The package imports its fANOVA and mean-decrease-impurity evaluators, which try to import
    ``sklearn.ensemble`` and ``sklearn.tree`` when scikit-learn is installed: 2 s, 40% of a
    report's time, for evaluators the report does not use (Optuna's default, PED-ANOVA, needs
    neither). The two modules read as absent while Optuna's optional imports run, then are
    importable again. Only ``lrsearch report`` does this (a library call never does: your
    own process may want fANOVA); where scikit-learn or ``optuna.importance`` is already
    imported, nothing changes.
    """
    blocked = ("sklearn.ensemble", "sklearn.tree")
    if "optuna.importance" in sys.modules or any(m in sys.modules for m in blocked):
        return
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import optuna.importance  # noqa: F401
    finally:
        for name in blocked:
            if sys.modules.get(name) is None:
                del sys.modules[name]


def run(args: argparse.Namespace) -> int:
    from lrsearch.report import ReportStep
    from lrsearch.report import write_report
    from lrsearch.storage import load_study

    import_importance_without_sklearn()
    study = load_study(storage_of(args), study_name_of(args))
    show = shows_progress(args)

    def on_step(s: ReportStep) -> None:
        if not show:
            return
        width = len(str(s.total))
        head = f"[{s.index:>{width}}/{s.total}]"
        if s.path is None:
            line = f"{head} skipped {s.name}: {s.note}"
        else:
            line = f"{head} wrote {s.path}  ({s.what}, {s.seconds:.1f}s)"
        print(line, file=sys.stderr, flush=True)

    result = write_report(study, args.out, on_step=on_step)
    print(f"Wrote {len(result.files)} files to {result.out}:")
    for path in result.files:
        print(f"  {path.name}")
    for name, note in result.skipped.items():
        print(f"Skipped {name}: {note}.")
    return 0
