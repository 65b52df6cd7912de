"""The learning-rate range test (Smith, 2018) for compiled Keras models.

:func:`find_lr` raises the learning rate exponentially batch by batch, records the smoothed
loss, stops when it diverges and restores the model; the :class:`LRFinderResult` it returns
holds the curve, the suggested rate (or the reason there is none), a search band and a plot.
Without ``num_steps`` the test runs at least :data:`MIN_AUTO_STEPS` steps
(:func:`planned_steps`), cycling through small datasets. :func:`range_test_on_data` runs it
for a dataset and a model recipe (``lrsearch find-lr`` and ``tune --initial-lr auto``).

The names are imported on first use, so ``lrsearch.rangetest.MIN_AUTO_STEPS`` costs no numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from lrsearch.rangetest._steps import MIN_AUTO_STEPS
from lrsearch.rangetest._steps import planned_steps

if TYPE_CHECKING:  # pragma: no cover
    from lrsearch.rangetest._finder import LRFinderResult
    from lrsearch.rangetest._finder import find_lr
    from lrsearch.rangetest._on_data import range_test_on_data
    from lrsearch.rangetest._suggest import Suggestion
    from lrsearch.rangetest._suggest import suggest

__all__ = [
    "MIN_AUTO_STEPS",
    "LRFinderResult",
    "Suggestion",
    "find_lr",
    "planned_steps",
    "range_test_on_data",
    "suggest",
]

_LAZY = {
    "LRFinderResult": "lrsearch.rangetest._finder",
    "find_lr": "lrsearch.rangetest._finder",
    "range_test_on_data": "lrsearch.rangetest._on_data",
    "Suggestion": "lrsearch.rangetest._suggest",
    "suggest": "lrsearch.rangetest._suggest",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lrsearch.rangetest' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
