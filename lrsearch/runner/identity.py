"""A study keeps its experiment: what a continued study must share with the one stored.

Two checks, both read-only and both run before anything is written:

* :func:`identity_differences`: the settings that define the experiment (dataset, model, task,
  epochs, batch size, validation fraction, subsample, granularity) against those stored in the
  study's ``lrsearch_config`` user attribute. A key the study did not record yet is skipped,
  except ``task`` and ``granularity``: studies from before they existed were all
  classification, and all per epoch.
* :func:`space_differences`: the choices of every categorical parameter (``family``,
  ``optimizer``, ``mode``) the new search space would suggest against those the study's trials
  were drawn from. Optuna refuses to change a categorical's choices within one study (every new
  trial would fail with "CategoricalDistribution does not support dynamic value space"), so
  another family or optimizer list is refused up front. Float and integer ranges may change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: settings compared, in the order messages name them, with their flag
SETTINGS: dict[str, str] = {
    "dataset": "--dataset",
    "model": "--model",
    "task": "--task",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "val_fraction": "--val-fraction",
    "subsample": "--subsample",
    "granularity": "--granularity",
}

#: what a study that did not record a setting ran with
_LEGACY = {"task": "classification", "granularity": "epoch"}

#: the flag that sets a categorical parameter's choices
_CATEGORICAL_FLAGS = {"family": "--families", "optimizer": "--optimizers"}


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


def identity_differences(stored: Any, given: dict[str, Any]) -> list[str]:
    """``"--epochs: 10 stored, 20 given"`` for each setting that differs (empty: same).

    ``stored`` is the study's ``lrsearch_config`` (``None`` or not a dict: nothing stored yet).
    """
    if not isinstance(stored, dict):
        return []
    out = []
    for key, flag in SETTINGS.items():
        if key not in given:
            continue
        if key in stored:
            before = stored[key]
        elif key in _LEGACY:
            before = _LEGACY[key]
        else:
            continue
        if before != given[key]:
            out.append(f"{flag} {_shown(before)} stored, {_shown(given[key])} given")
    return out


class _RecordingTrial:
    """Stands in for an ``optuna.trial.Trial``: records each distribution, returns a value.

    ``forced`` pins categorical values (to walk every family and optimizer); otherwise the
    first choice, or the low end of a range, is returned.
    """

    def __init__(self, forced: dict[str, Any]) -> None:
        self.forced = forced
        self.number = 0
        self.choices: dict[str, tuple[Any, ...]] = {}

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self.choices[name] = tuple(choices)
        return self.forced.get(name, choices[0])

    def suggest_float(self, name: str, low: float, high: float, **_: Any) -> float:
        return float(low)

    def suggest_int(self, name: str, low: int, high: int, **_: Any) -> int:
        return int(low)


def categorical_choices(space: Any) -> dict[str, tuple[Any, ...]]:
    """Every categorical parameter ``space.suggest`` can ask for, with its choices."""
    out: dict[str, tuple[Any, ...]] = {}
    for family in space.families:
        for optimizer in space.optimizers:
            trial = _RecordingTrial({"family": family, "optimizer": optimizer})
            space.suggest(trial)
            out.update(trial.choices)
    return out


def stored_choices(study: Any) -> dict[str, tuple[Any, ...]]:
    """The categorical choices the study's trials were drawn from (the latest trial wins)."""
    import optuna

    out: dict[str, tuple[Any, ...]] = {}
    for trial in study.get_trials(deepcopy=False):
        for name, dist in trial.distributions.items():
            if isinstance(dist, optuna.distributions.CategoricalDistribution):
                out[name] = tuple(dist.choices)
    return out


def same_choices_in_study_order(study: Any, space: Any) -> dict[str, tuple[Any, ...]]:
    """``{"families": ..., "optimizers": ...}`` where ``space`` lists the study's choices in
    another order: the study's order, so the same command with reordered names continues it."""
    before = stored_choices(study)
    out = {}
    for name, attr in (("family", "families"), ("optimizer", "optimizers")):
        given = tuple(getattr(space, attr))
        if name in before and before[name] != given and set(before[name]) == set(given):
            out[attr] = before[name]
    return out


def space_differences(study: Any, space: Any) -> list[str]:
    """``"--families: step,cosine stored, step,exponential given"`` for each changed choice."""
    before = stored_choices(study)
    after = categorical_choices(space)
    out = []
    for name, choices in after.items():
        if name in before and before[name] != choices:
            flag = _CATEGORICAL_FLAGS.get(name, f"the {name} range")
            old = ",".join(map(str, before[name]))
            new = ",".join(map(str, choices))
            out.append(f"{flag} {old} stored, {new} given")
    return out
