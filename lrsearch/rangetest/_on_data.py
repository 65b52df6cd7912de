"""The range test of a dataset and a model recipe: what ``lrsearch find-lr`` and
``lrsearch tune --initial-lr auto`` both run.

A fresh model of ``model_spec`` for ``data`` (seeded), compiled with ``optimizer`` (momentum
0.9 where the optimizer takes one; the rate is overwritten before every batch of the test) and
the task's loss, then :func:`~lrsearch.rangetest.find_lr` on the training split. Keras' session
is cleared afterwards.
"""

from __future__ import annotations

from typing import Any

from lrsearch.rangetest._finder import LRFinderResult
from lrsearch.rangetest._finder import find_lr


def range_test_on_data(
    data: Any, model_spec: str, optimizer: str, **find_lr_kwargs: Any
) -> LRFinderResult:
    """Run the range test of ``model_spec`` on ``data`` (a :class:`lrsearch.data.Dataset`).

    ``find_lr_kwargs`` are :func:`~lrsearch.rangetest.find_lr`'s (``start_lr``, ``end_lr``,
    ``batch_size``, ``epochs``, ``num_steps``, ``seed``, ...); ``seed`` also seeds the model.

    Raises:
        UsageError: the model does not fit the data or the task.
        ValueError: a bad argument of :func:`~lrsearch.rangetest.find_lr`.
    """
    import keras

    from lrsearch.keras import build_optimizer
    from lrsearch.keras import uses_momentum
    from lrsearch.models import build_for
    from lrsearch.models import loss_and_metrics

    keras.backend.clear_session()
    keras.utils.set_random_seed(find_lr_kwargs.get("seed", 0))
    model = build_for(model_spec, data)
    loss, metrics = loss_and_metrics(model, data.task)
    momentum = 0.9 if uses_momentum(optimizer) else 0.0
    model.compile(
        optimizer=build_optimizer(optimizer, 1e-3, momentum=momentum), loss=loss, metrics=metrics
    )
    try:
        return find_lr(model, data.x_train, data.y_train, **find_lr_kwargs)
    finally:
        keras.backend.clear_session()
