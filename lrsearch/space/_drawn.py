"""Which :class:`ScheduleSpec` a ``keras_tuner.HyperParameters`` drew (for tuners to apply it)."""

from __future__ import annotations

import weakref
from typing import Any

from lrsearch.space._spec import ScheduleSpec

_DRAWN: weakref.WeakKeyDictionary[Any, ScheduleSpec] = weakref.WeakKeyDictionary()


def remember_drawn(hp: Any, spec: ScheduleSpec) -> None:
    """Record that ``hp`` drew ``spec`` (called by :meth:`SearchSpace.from_hp`)."""
    try:
        _DRAWN[hp] = spec
    except TypeError:  # not weak-referenceable or not hashable: nothing to remember
        pass


def drawn_spec(hp: Any) -> ScheduleSpec | None:
    """The spec :meth:`SearchSpace.from_hp` last drew from this very ``hp`` object, or ``None``.

    A tuner calls it after ``hypermodel.build(hp)`` to apply the schedule's callbacks
    (:class:`lrsearch.kerastuner.OptunaSearch` does) without the hypermodel overriding ``fit``.
    A copy of ``hp`` has drawn nothing.
    """
    try:
        return _DRAWN.get(hp)
    except TypeError:
        return None
