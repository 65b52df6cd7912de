"""The study of a ``tune`` run: found, checked against the options, created, summarised.

A continued study must run the same experiment (:mod:`lrsearch.runner.identity`): every check
here reads the storage without writing, and :func:`create_study` is the first write.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.runner.options import TuneOptions
from lrsearch.runner.options import check_options
from lrsearch.storage import shown_url

CONFIG_ATTR = "lrsearch_config"


def existing_study(o: TuneOptions) -> Any | None:
    """The study of ``o`` if its database and study exist, without creating anything."""
    import optuna

    from lrsearch.storage import open_storage
    from lrsearch.storage import study_names

    try:
        storage = open_storage(o.storage, create=False)
    except UsageError:
        return None
    if o.study_name not in study_names(storage):
        return None
    return optuna.load_study(study_name=o.study_name, storage=storage)


def check_continuation(o: TuneOptions, space: Any) -> TuneOptions:
    """Refuse to continue a study with another experiment or another categorical space.

    Raises :class:`UsageError` (before anything is written) naming every setting of
    :meth:`TuneOptions.identity` that differs from the one stored in the study (stored vs
    given), and every categorical parameter (``family``, ``optimizer``, ``mode``) whose choices
    differ from those the study's trials were drawn from (Optuna cannot change those within a
    study: every new trial would fail). The same families or optimizers in another order are
    not a difference: the returned options list them in the study's order.
    """
    from lrsearch.runner.identity import identity_differences
    from lrsearch.runner.identity import same_choices_in_study_order
    from lrsearch.runner.identity import space_differences

    study = existing_study(o)
    if study is None:
        return o
    if CONFIG_ATTR not in study.user_attrs and study.get_trials(deepcopy=False):
        raise UsageError(
            f"Study {o.study_name!r} in {shown_url(o.storage)} was not made by `lrsearch tune` "
            "(it has trials but no lrsearch settings): its trials would not be comparable "
            "with lrsearch's, so tune does not add to it. Pass another --study-name for an "
            "lrsearch study; `lrsearch best/report/export` can still read this one."
        )
    reordered: dict[str, Any] = dict(same_choices_in_study_order(study, space))
    if reordered:
        o = dataclasses.replace(o, **reordered)
        space = check_options(o)
    stored = study.user_attrs.get(CONFIG_ATTR)
    differences = identity_differences(stored, o.identity())
    differences += space_differences(study, space)
    if differences:
        raise UsageError(
            f"Study {o.study_name!r} in {shown_url(o.storage)} was run with other settings: "
            + "; ".join(differences)
            + ". A study keeps one experiment, so its trials stay comparable. Pass the stored "
            "settings to continue it, or start a new study with another --study-name (e.g. "
            f"--study-name {o.study_name}-2)."
        )
    return o


def create_study(o: TuneOptions) -> Any:
    import optuna

    from lrsearch.storage import open_storage

    storage = open_storage(o.storage, create=True)
    study = optuna.create_study(
        storage=storage,
        study_name=o.study_name,
        direction="minimize",
        load_if_exists=True,
    )
    stored = study.user_attrs.get(CONFIG_ATTR)
    if stored is None:
        study.set_metric_names(["val_loss"])
        study.set_user_attr(CONFIG_ATTR, o.identity())
        if o.config_source is not None:
            study.set_user_attr("config_file", o.config_source)
    return study


def summarize(study: Any) -> tuple[dict[str, int], dict[str, Any] | None]:
    """Counts of trials per state, and the best trial as a dict (or ``None``)."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    try:
        b = study.best_trial
    except ValueError:
        return counts, None
    return counts, {
        "trial": b.number,
        "value": b.value,
        "family": b.user_attrs.get("family"),
        "params": b.user_attrs.get("spec", {}).get("params", {}),
    }
