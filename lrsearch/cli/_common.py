"""Options shared by several commands."""

from __future__ import annotations

import argparse
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.storage import default_storage
from lrsearch.storage import default_study_name


def add_storage_argument(parser: argparse.ArgumentParser) -> None:
    """``--storage`` with its environment fallback."""
    parser.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help=(
            "study database (SQLAlchemy URL); default $LRSEARCH_STORAGE or "
            "sqlite:///studies/lrsearch.db (relative to the working directory)"
        ),
    )


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """``--storage`` and ``--study-name`` with their environment fallbacks."""
    add_storage_argument(parser)
    parser.add_argument(
        "--study-name",
        default=None,
        metavar="NAME",
        help="study name; default $LRSEARCH_STUDY_NAME or 'lrsearch'",
    )


def add_config_argument(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--config FILE``: a study definition (TOML) whose storage and study_name locate the study.

    Commands that call :func:`storage_of` / :func:`study_name_of` honour it with no other
    change; an explicit ``--storage`` / ``--study-name`` still wins.
    """
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help=help
        or (
            "a study definition (TOML, e.g. studies/warmup.toml): the study is found by its "
            "storage and study_name; --storage and --study-name override them"
        ),
    )


def config_of(args: argparse.Namespace) -> Any:
    """The checked :class:`lrsearch.config.StudyFile` of ``--config``, or ``None`` (cached)."""
    path = getattr(args, "config", None)
    if path is None:
        return None
    cached = getattr(args, "_study_file", None)
    if cached is None:
        from lrsearch.config import load_config

        cached = load_config(path, check_files=False)
        args._study_file = cached
    return cached


def _from_config(args: argparse.Namespace, key: str) -> str | None:
    config = config_of(args)
    return None if config is None else config.options.get(key)


def storage_of(args: argparse.Namespace) -> str:
    """``--storage``, else the ``--config`` file's storage, else the default."""
    return str(args.storage or _from_config(args, "storage") or default_storage())


def study_name_of(args: argparse.Namespace) -> str:
    """``--study-name``, else the ``--config`` file's study_name, else the default."""
    return str(args.study_name or _from_config(args, "study_name") or default_study_name())


def dataset_help() -> str:
    """``--dataset``'s help, from the dataset registry."""
    from lrsearch.data import BUNDLED
    from lrsearch.data import DATASET_TASKS

    bundled = ", ".join(
        f"{n} ({DATASET_TASKS[n]})" if DATASET_TASKS[n] != "classification" else n for n in BUNDLED
    )
    online = ", ".join(n for n in DATASET_TASKS if n not in BUNDLED)
    return (
        f"{bundled} (bundled with scikit-learn); {online} (Keras, needs the network once); or "
        "a .npz (x, y or x_train, y_train, x_val, y_val) or .csv (header row, last column the "
        "label or target) file"
    )


def optimizers_help() -> str:
    """The optimizer names from the optimizer registry, those with momentum marked."""
    from lrsearch.optimizers import OPTIMIZERS
    from lrsearch.optimizers import uses_momentum

    return ", ".join(f"{n} (with momentum)" if uses_momentum(n) else n for n in OPTIMIZERS)


def add_task_argument(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """``--task auto|classification|regression`` and what is done to the data."""
    from lrsearch.tasks import DATA_TREATMENT
    from lrsearch.tasks import TASK_CHOICES

    parser.add_argument(
        "--task",
        default=default,
        choices=TASK_CHOICES,
        help="auto (default: named datasets have their own; for files, string labels or at "
        "most 100 whole-number values with >= 5 examples each are classes, anything else is "
        "regression), classification or regression. Classification: "
        f"{DATA_TREATMENT['classification']}. Regression: {DATA_TREATMENT['regression']}; "
        "trained on mean squared error, mae recorded",
    )


def add_progress_argument(
    parser: argparse.ArgumentParser, what: str, default: str | None = "auto"
) -> None:
    """``--progress auto|on|off``: ``what`` (e.g. "a line per file") on stderr, or not."""
    parser.add_argument(
        "--progress",
        choices=("auto", "on", "off"),
        default=default,
        help=f"{what} on stderr: auto (when stderr is a terminal), on, off",
    )


def shows_progress(args: argparse.Namespace) -> bool:
    """Whether ``--progress`` asks for progress lines now (``auto``: stderr is a terminal)."""
    import sys

    return {"auto": sys.stderr.isatty(), "on": True, "off": False}[args.progress or "auto"]


def parse_names(text: str | None, option: str) -> tuple[str, ...] | None:
    """``"a, b"`` -> ``("a", "b")``; ``None`` stays ``None``; empty is an error."""
    if text is None:
        return None
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise UsageError(f"{option} is empty. Pass a comma-separated list of names.")
    return names


def parse_lr_range(text: str) -> tuple[float, float] | str:
    """``"LOW,HIGH"`` -> ``(low, high)``; ``"auto"`` stays ``"auto"``."""
    if text.strip().lower() == "auto":
        return "auto"
    parts = [p.strip() for p in text.split(",")]
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise UsageError(
            f"--initial-lr must be LOW,HIGH (two positive numbers, low < high) or 'auto'; "
            f"received {text!r}. Example: --initial-lr 0.001,0.5."
        ) from None
    if not (low > 0 and high > 0 and low < high) or any(v != v for v in (low, high)):
        raise UsageError(
            f"--initial-lr must be two positive numbers with low < high; received {text!r}. "
            "Example: --initial-lr 0.001,0.5."
        )
    return (low, high)


def print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, allow_nan=False, default=str))
