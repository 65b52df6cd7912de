"""The search space (Optuna and KerasTuner front ends over one definition) and its specs."""

from __future__ import annotations

from lrsearch.space._drawn import drawn_spec
from lrsearch.space._space import SearchSpace
from lrsearch.space._spec import ScheduleSpec

__all__ = ["ScheduleSpec", "SearchSpace", "drawn_spec"]
