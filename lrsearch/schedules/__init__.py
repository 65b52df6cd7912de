"""Learning-rate schedules as pure functions of the epoch (or step) index.

This module imports nothing of Keras. Every family of :data:`FAMILIES` except ``plateau`` is a
:class:`Schedule`: ``get(family, **params)(t) -> float``, ``t`` the 0-based epoch index (or the
step index when applied per batch); ``from_config(schedule.get_config())`` rebuilds it.

Every family without a warm-up of its own (``REGISTRY[name].optional_warmup``) also takes
``warmup_epochs=0`` and ``start_lr=0.0``: a linear ramp from ``start_lr`` to ``initial_lr``, then
the family shifted by ``warmup_epochs`` (:class:`WithWarmup`). The ramps and cosines of all
families are the pieces of ``_pieces.py``, each written once.
"""

from __future__ import annotations

from lrsearch.schedules._base import Schedule
from lrsearch.schedules._base import WithWarmup
from lrsearch.schedules._cyclic import CYCLICAL_MODES
from lrsearch.schedules._cyclic import CosineRestarts
from lrsearch.schedules._cyclic import Cyclical
from lrsearch.schedules._cyclic import OneCycle
from lrsearch.schedules._decay import Constant
from lrsearch.schedules._decay import Cosine
from lrsearch.schedules._decay import Exponential
from lrsearch.schedules._decay import Polynomial
from lrsearch.schedules._decay import Step
from lrsearch.schedules._decay import TimeBased
from lrsearch.schedules._math import PY
from lrsearch.schedules._math import MathOps
from lrsearch.schedules._registry import DURATION_PARAMS
from lrsearch.schedules._registry import FAMILIES
from lrsearch.schedules._registry import PLATEAU_DEFAULTS
from lrsearch.schedules._registry import REGISTRY
from lrsearch.schedules._registry import Draw
from lrsearch.schedules._registry import Family
from lrsearch.schedules._registry import check_family
from lrsearch.schedules._registry import from_config
from lrsearch.schedules._registry import get
from lrsearch.schedules._registry import sample_warmup
from lrsearch.schedules._registry import scale_durations
from lrsearch.schedules._registry import validate_plateau
from lrsearch.schedules._warmup import LinearWarmup
from lrsearch.schedules._warmup import WarmupCosine
from lrsearch.schedules._warmup import WarmupStableDecay

__all__ = [
    "CYCLICAL_MODES",
    "DURATION_PARAMS",
    "FAMILIES",
    "PLATEAU_DEFAULTS",
    "PY",
    "REGISTRY",
    "Constant",
    "Cosine",
    "CosineRestarts",
    "Cyclical",
    "Draw",
    "Exponential",
    "Family",
    "LinearWarmup",
    "MathOps",
    "OneCycle",
    "Polynomial",
    "Schedule",
    "Step",
    "TimeBased",
    "WarmupCosine",
    "WarmupStableDecay",
    "WithWarmup",
    "check_family",
    "from_config",
    "get",
    "sample_warmup",
    "scale_durations",
    "validate_plateau",
]
