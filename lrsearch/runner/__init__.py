"""The study runner: ``lrsearch tune`` as a library.

One module per job, imports pointing one way (each module imports only those above it here)::

    search     the sampler and the pruner (Optuna only)
    options    TuneOptions and the checks that need no data
    identity   what a continued study must share with the stored one
    study      finding, checking, creating and summarising the study
    signals    Ctrl-C: stop cleanly once, ignore the rest
    prepare    the task decided, the data loaded, the model checked
    progress   the per-trial progress line
    auto_lr    ``--initial-lr auto``: range tests stored in the study
    loop       one process's trial loop
    workers    ``--workers W``: processes, hand-shake, clean-up
    tune       ``tune(options)``: all of the above in order

>>> from lrsearch.runner import TuneOptions, tune
>>> # result = tune(TuneOptions(trials=5, epochs=3))
"""

from __future__ import annotations

from lrsearch.runner.options import TuneOptions
from lrsearch.runner.options import TuneResult
from lrsearch.runner.options import check_options
from lrsearch.runner.prepare import Prepared
from lrsearch.runner.prepare import prepare
from lrsearch.runner.search import make_sampler
from lrsearch.runner.study import CONFIG_ATTR
from lrsearch.runner.tune import tune

__all__ = [
    "CONFIG_ATTR",
    "Prepared",
    "TuneOptions",
    "TuneResult",
    "check_options",
    "make_sampler",
    "prepare",
    "tune",
]
