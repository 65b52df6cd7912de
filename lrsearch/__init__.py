"""lrsearch: learning-rate schedules as an Optuna search space for Keras models.

>>> import lrsearch
>>> space = lrsearch.SearchSpace(families=["step", "cosine"], epochs=20)
>>> # in an Optuna objective: spec = space.suggest(trial)
>>> # model.compile(optimizer=spec.build_optimizer(), ...)
>>> # model.fit(..., callbacks=spec.callbacks())

Heavy pieces (Keras, Optuna) are imported only when used.
"""

from __future__ import annotations

from typing import Any

from lrsearch.errors import UsageError
from lrsearch.space import ScheduleSpec
from lrsearch.space import SearchSpace

__version__ = "0.1.0"

__all__ = ["ScheduleSpec", "SearchSpace", "UsageError", "find_lr", "load_best", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "find_lr":
        from lrsearch.rangetest import find_lr

        return find_lr
    if name == "load_best":
        from lrsearch.study import load_best

        return load_best
    raise AttributeError(f"module 'lrsearch' has no attribute {name!r}")
