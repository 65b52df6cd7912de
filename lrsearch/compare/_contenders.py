"""The contenders of a comparison: the articles' settings of some families, or a study's bests."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.space import ScheduleSpec

if TYPE_CHECKING:
    import optuna

#: Keras' default learning rate of the adaptive optimizers (the article's ``Adam()``)
ADAPTIVE_DEFAULT_LR = {"adam": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-3, "adadelta": 1e-3}
#: schedule parameters that are learning rates (scaled with ``initial_lr``)
_RATE_PARAMS = ("initial_lr", "max_lr", "start_lr", "end_lr", "min_lr")


@dataclasses.dataclass(frozen=True)
class CompareEntry:
    """One contender: a label, the spec it trains with, and where the spec came from."""

    label: str
    """the name in tables and plot legends (``step``, ``constant (adam)``)"""
    spec: ScheduleSpec
    source: str
    """``article defaults`` or ``study trial #N``"""
    epochs: int | None = None
    """the budget the spec ran for in its study (``None``: the comparison's own)"""


def _scaled_to(params: dict[str, Any], lr0: float) -> dict[str, Any]:
    factor = lr0 / float(params["initial_lr"])
    return {k: (v * factor if k in _RATE_PARAMS and v else v) for k, v in params.items()}


def article_entry(name: str, epochs: int) -> CompareEntry:
    """The articles' setting of ``name`` (``"family"`` or ``"family:optimizer"``).

    Raises:
        UsageError: unknown family or optimizer.
    """
    from lrsearch.optimizers import check_optimizer
    from lrsearch.schedules import REGISTRY
    from lrsearch.schedules import check_family

    family, _, optimizer = name.partition(":")
    family, optimizer = family.strip(), (optimizer.strip() or "sgd")
    try:
        check_family(family)
        check_optimizer(optimizer)
    except ValueError as exc:
        raise UsageError(
            f"{exc} Pass --families as a comma-separated list such as "
            "constant,step,exponential (optionally family:optimizer, e.g. "
            "constant:adam)."
        ) from None
    params = dict(REGISTRY[family].article_defaults(epochs))
    if optimizer in ADAPTIVE_DEFAULT_LR:
        params = _scaled_to(params, ADAPTIVE_DEFAULT_LR[optimizer])
    label = family if optimizer == "sgd" else f"{family} ({optimizer})"
    try:
        spec = ScheduleSpec(family=family, params=params, optimizer=optimizer, momentum=0.0)
    except ValueError as exc:
        raise UsageError(
            f"The articles' setting of {name!r} is invalid for {epochs} epochs: {exc}"
        ) from None
    return CompareEntry(label, spec, "article defaults")


def article_entries(names: Sequence[str], epochs: int) -> list[CompareEntry]:
    """:func:`article_entry` for each name; a name listed twice is a :class:`UsageError`."""
    if not names:
        raise UsageError(
            "Nothing to compare: --families is empty. Pass e.g. "
            "--families constant,step,exponential."
        )
    entries = [article_entry(n, epochs) for n in names]
    labels = [e.label for e in entries]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise UsageError(
            f"--families lists {', '.join(twice)} more than once. List each family once."
        )
    return entries


def study_entries(study: optuna.Study) -> list[CompareEntry]:
    """The spec of each family's best finished trial of ``study``.

    Raises:
        UsageError: the study has no finished lrsearch trial (nothing to compare).
    """
    from lrsearch.report import family_bests

    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    entries = []
    for b in family_bests(study):
        data = by_number[b.trial].user_attrs.get("spec")
        if data is None:
            continue
        budget = by_number[b.trial].user_attrs.get("epochs")
        entries.append(
            CompareEntry(
                b.label,
                ScheduleSpec.from_dict(data),
                f"study trial #{b.trial}",
                int(budget) if isinstance(budget, int) and budget >= 1 else None,
            )
        )
    if not entries:
        raise UsageError(
            f"Nothing to compare: study {study.study_name!r} has no finished trial recorded by "
            "lrsearch. Run `lrsearch tune` first, or pass --families to compare the articles' "
            "settings."
        )
    return entries
