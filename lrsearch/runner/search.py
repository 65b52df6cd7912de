"""The search's Optuna parts: the sampler and the pruner of a ``tune`` run."""

from __future__ import annotations

from typing import Any

PRUNERS = ("median", "hyperband", "none")


def make_pruner(name: str, epochs: int) -> Any:
    """``median`` (after 5 trials, from the 2nd epoch), ``hyperband`` or ``none``."""
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs)
    return optuna.pruners.NopPruner()


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
