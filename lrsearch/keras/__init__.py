"""Keras glue: callbacks, in-graph schedules and optimizers for :mod:`lrsearch.schedules`.

Two ways to drive the learning rate, never both at once (Keras 3 raises ``TypeError`` when
anything sets the rate of an optimizer built with a schedule object):

* **callback driver** (default; the only one for ``plateau``): an optimizer with a float rate
  and :class:`ScheduleCallback` (or :class:`PlateauCallback`) setting it each epoch or batch;
* **graph driver** (per-step speed): an optimizer built with :class:`InGraphSchedule`; a
  :class:`ScheduleCallback` of the same schedule then only records ``learning_rate``.

``ScheduleSpec.build_optimizer()`` and ``ScheduleSpec.callbacks()`` always pick matching ones.
"""

from __future__ import annotations

from lrsearch.keras._callbacks import GRANULARITIES
from lrsearch.keras._callbacks import PlateauCallback
from lrsearch.keras._callbacks import ScheduleCallback
from lrsearch.keras._in_graph import KERAS_OPS
from lrsearch.keras._in_graph import InGraphSchedule
from lrsearch.keras._optimizers import build_optimizer
from lrsearch.keras._reusable import NUMPY_OPS
from lrsearch.keras._reusable import ReloadableStepSchedule
from lrsearch.keras._reusable import VariableMomentumSGD
from lrsearch.optimizers import OPTIMIZERS
from lrsearch.optimizers import check_optimizer
from lrsearch.optimizers import uses_momentum

__all__ = [
    "GRANULARITIES",
    "KERAS_OPS",
    "NUMPY_OPS",
    "OPTIMIZERS",
    "InGraphSchedule",
    "PlateauCallback",
    "ReloadableStepSchedule",
    "ScheduleCallback",
    "VariableMomentumSGD",
    "build_optimizer",
    "check_optimizer",
    "uses_momentum",
]
