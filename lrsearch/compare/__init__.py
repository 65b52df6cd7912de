"""``compare``: schedule families trained on the same seeds at the same budget.

The articles compare schedules with one training run each; one run says little when two
families are close. Here every family is trained ``seeds`` times, on the same seeds
(``seed, seed + 1, ...``: the same initial weights and batch order for every family), for the
same number of epochs on the same data split, and the result gives the mean and the spread
(standard deviation, min, max) of each family's best validation loss and best accuracy (lowest
mean absolute error for regression), plus per-epoch mean +- std curves for the articles'
comparison plots::

    from lrsearch.compare import compare, write_compare

    result = compare(families=["constant", "time_based", "step", "exponential"], seeds=3,
                     epochs=20)
    print(result.format_table())
    write_compare(result, "compare/")   # PNG plots + compare.json + compare.md

What each family trains with:

* ``families=[...]``: the articles' settings, ``REGISTRY[f].article_defaults(epochs)`` with
  plain SGD (lr0 0.5, k 0.1, drop 0.8 every 10 epochs, decay lr0 / epochs, ...). A name may
  carry an optimizer, ``"constant:adam"``: an adaptive optimizer starts from its Keras default
  rate (0.001; the other rates of the schedule scaled alike), as the Neptune article's Adam run.
* ``storage=..., study_name=...``: the spec of each family's best finished trial of the study,
  and by default the study's own dataset, model, task and batch size; each family trains for
  as many epochs as its trial ran (its ``epochs`` user attribute) unless ``epochs`` is given.

The modules, each one job (this package re-exports their public names): ``_contenders``
(what trains: :class:`CompareEntry`, :func:`article_entries`, :func:`study_entries`),
``_run`` (:func:`compare`, the training), ``_results`` (:class:`CompareResult` and its
tables), ``_plots`` (:func:`plot_compare`, :func:`write_compare`).
"""

from __future__ import annotations

from lrsearch.compare._contenders import ADAPTIVE_DEFAULT_LR
from lrsearch.compare._contenders import CompareEntry
from lrsearch.compare._contenders import article_entries
from lrsearch.compare._contenders import article_entry
from lrsearch.compare._contenders import study_entries
from lrsearch.compare._plots import plot_compare
from lrsearch.compare._plots import write_compare
from lrsearch.compare._results import CURVE_METRICS
from lrsearch.compare._results import CompareResult
from lrsearch.compare._results import FamilyResult
from lrsearch.compare._results import RunResult
from lrsearch.compare._results import Spread
from lrsearch.compare._run import DEFAULT_EPOCHS
from lrsearch.compare._run import RunProgress
from lrsearch.compare._run import compare

__all__ = [
    "ADAPTIVE_DEFAULT_LR",
    "CURVE_METRICS",
    "DEFAULT_EPOCHS",
    "CompareEntry",
    "CompareResult",
    "FamilyResult",
    "RunProgress",
    "RunResult",
    "Spread",
    "article_entries",
    "article_entry",
    "compare",
    "plot_compare",
    "study_entries",
    "write_compare",
]
