"""The sampler of a ``tune`` run (the pruners are :mod:`lrsearch.pruners`)."""

from __future__ import annotations

from typing import Any


def make_sampler(seed: int, offset: int) -> Any:
    """Seeded TPE (``family`` stays categorical); ``offset`` varies the seed per run/worker."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed + offset,
            multivariate=True,
            group=True,
            constant_liar=True,  # harmless alone, needed for concurrent workers
        )
