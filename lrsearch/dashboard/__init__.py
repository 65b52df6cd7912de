"""The Optuna dashboard on a study database, with each trial's learning-rate curve in it.

Two halves, each its own module:

* **Writing** (``_views``; cheap, never fatal): after each trial of a study without
  pictures, :func:`write_trial_note` saves a trial note (optuna-dashboard's note) with the
  schedule, a one-line sketch of the learning-rate curve and a Markdown table of epoch,
  learning rate, loss, val_loss and val_accuracy (val_mae for regression). At the end of each
  tune run, :func:`refresh_study_views` saves the study note (the per-family summary, kept
  below any text of your own) and two graphs (``save_plotly_graph_object``): the
  learning-rate curves and the validation loss of each family's best trial.
* **Serving** (``_server``): :func:`serve` runs optuna-dashboard's WSGI app on ``host:port``
  with the standard library's server, on a storage opened without creating anything
  (:func:`open_dashboard_storage`). SQLite studies are in WAL mode, so the dashboard reads
  while ``lrsearch tune`` writes, and neither waits for the other.

* **Pictures** (``_images``): :class:`TrialViews`, the ``on_trial_end`` hook ``lrsearch tune``
  passes to :class:`lrsearch.objective.Objective`, stores an SVG of each trial's learning rate
  and training and validation loss per epoch as an Optuna artifact of the trial
  (:func:`optuna.artifacts.upload_artifact`), in the folder :func:`artifact_dir_for` names;
  :func:`serve` serves that artifact store, so the trial's page shows the picture. Where there
  is no artifact folder it writes the trial note instead (a note per trial makes the
  dashboard's study page quadratic in the trials: optuna-dashboard finds each trial's note by
  scanning every note of the study).

In the dashboard: a trial's page shows its picture (or its note); the study's page shows the
summary note and the graphs. Over HTTP, ``GET /api/studies/<study_id>`` returns them:
``trials[i].artifacts`` (or ``trials[i].note.body``) and ``plotly_graph_objects``.
"""

from __future__ import annotations

from lrsearch.dashboard._images import ARTIFACT_DIR_ENV
from lrsearch.dashboard._images import IMAGE_NAME
from lrsearch.dashboard._images import TrialViews
from lrsearch.dashboard._images import artifact_dir_for
from lrsearch.dashboard._images import open_artifact_store
from lrsearch.dashboard._images import trial_views_for
from lrsearch.dashboard._server import check_port
from lrsearch.dashboard._server import importances_never_fail
from lrsearch.dashboard._server import make_server
from lrsearch.dashboard._server import open_dashboard_storage
from lrsearch.dashboard._server import serve
from lrsearch.dashboard._views import LOSS_GRAPH_ID
from lrsearch.dashboard._views import LR_GRAPH_ID
from lrsearch.dashboard._views import SUMMARY_HEADING
from lrsearch.dashboard._views import curves_figure
from lrsearch.dashboard._views import refresh_study_views
from lrsearch.dashboard._views import sparkline
from lrsearch.dashboard._views import study_note
from lrsearch.dashboard._views import trial_note
from lrsearch.dashboard._views import write_trial_note

__all__ = [
    "ARTIFACT_DIR_ENV",
    "IMAGE_NAME",
    "TrialViews",
    "artifact_dir_for",
    "open_artifact_store",
    "LOSS_GRAPH_ID",
    "LR_GRAPH_ID",
    "SUMMARY_HEADING",
    "check_port",
    "curves_figure",
    "make_server",
    "importances_never_fail",
    "open_dashboard_storage",
    "refresh_study_views",
    "serve",
    "sparkline",
    "study_note",
    "trial_note",
    "trial_views_for",
    "write_trial_note",
]
