"""Reports of a study: plots (matplotlib, drawn on an ``Axes`` you may pass) and tables.

Data and drawing are apart, as in Optuna's visualization module: the ``*_info`` functions
return plain NamedTuples; the ``plot_*`` functions draw them and return the ``Axes``::

    import lrsearch.report as report
    from lrsearch.storage import load_study

    study = load_study("sqlite:///studies/lrsearch.db", "lrsearch")
    ax = report.plot_lr_curves(study)            # each family's best trial, one axis
    ax.figure.savefig("lr.png")
    report.write_report(study, "report/")        # every plot as PNG + summary.md/.csv

matplotlib is imported only when something is drawn (the Agg backend is chosen when none was
set, so no window opens).
"""

from __future__ import annotations

from lrsearch.report._info import METRICS
from lrsearch.report._info import Curve
from lrsearch.report._info import FamilyBest
from lrsearch.report._info import FamilySummary
from lrsearch.report._info import HistoryPoint
from lrsearch.report._info import ImportanceInfo
from lrsearch.report._info import OptimizationHistoryInfo
from lrsearch.report._info import best_curves
from lrsearch.report._info import family_bests
from lrsearch.report._info import family_summaries
from lrsearch.report._info import format_params
from lrsearch.report._info import importance_info
from lrsearch.report._info import label_order
from lrsearch.report._info import optimization_history_info
from lrsearch.report._output import check_out_dir
from lrsearch.report._output import prepare_out_dir
from lrsearch.report._output import save_axes_png
from lrsearch.report._plots import family_color
from lrsearch.report._plots import plot_curves
from lrsearch.report._plots import plot_family_values
from lrsearch.report._plots import plot_lr_curves
from lrsearch.report._plots import plot_metric
from lrsearch.report._plots import plot_optimization_history
from lrsearch.report._plots import plot_param_importances
from lrsearch.report._plots import plot_val_accuracy
from lrsearch.report._plots import plot_val_loss
from lrsearch.report._plots import wants_log
from lrsearch.report._svg import trial_svg
from lrsearch.report._tables import summary_csv
from lrsearch.report._tables import summary_markdown
from lrsearch.report._tables import summary_records
from lrsearch.report._trial import TrialInfo
from lrsearch.report._trial import draw_trial
from lrsearch.report._trial import plot_train_vs_val
from lrsearch.report._trial import trial_info
from lrsearch.report._trial import trial_png
from lrsearch.report._write import ReportResult
from lrsearch.report._write import ReportStep
from lrsearch.report._write import report
from lrsearch.report._write import write_report

__all__ = [
    "METRICS",
    "Curve",
    "FamilyBest",
    "FamilySummary",
    "HistoryPoint",
    "ImportanceInfo",
    "OptimizationHistoryInfo",
    "ReportResult",
    "ReportStep",
    "TrialInfo",
    "best_curves",
    "check_out_dir",
    "draw_trial",
    "family_bests",
    "family_color",
    "family_summaries",
    "format_params",
    "importance_info",
    "label_order",
    "optimization_history_info",
    "plot_curves",
    "plot_family_values",
    "plot_lr_curves",
    "plot_metric",
    "plot_optimization_history",
    "plot_param_importances",
    "plot_train_vs_val",
    "plot_val_accuracy",
    "plot_val_loss",
    "prepare_out_dir",
    "report",
    "save_axes_png",
    "summary_csv",
    "summary_markdown",
    "summary_records",
    "trial_info",
    "trial_png",
    "trial_svg",
    "wants_log",
    "write_report",
]
