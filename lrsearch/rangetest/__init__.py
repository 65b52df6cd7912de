"""The learning-rate range test (Smith, 2018) for compiled Keras models.

:func:`find_lr` raises the learning rate exponentially batch by batch, records the smoothed
loss, stops when it diverges and restores the model; the :class:`LRFinderResult` it returns
holds the curve, the suggested rate (or the reason there is none), a search band and a plot.
"""

from __future__ import annotations

from lrsearch.rangetest._finder import LRFinderResult
from lrsearch.rangetest._finder import find_lr
from lrsearch.rangetest._suggest import Suggestion
from lrsearch.rangetest._suggest import suggest

__all__ = ["LRFinderResult", "Suggestion", "find_lr", "suggest"]
