"""Options shared by several commands."""

from __future__ import annotations

import argparse
from typing import Any

from lrsearch.errors import UsageError
from lrsearch.storage import default_storage
from lrsearch.storage import default_study_name


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    """``--storage`` and ``--study-name`` with their environment fallbacks."""
    parser.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help=(
            "study database (SQLAlchemy URL); default $LRSEARCH_STORAGE or "
            "sqlite:///studies/lrsearch.db (relative to the working directory)"
        ),
    )
    parser.add_argument(
        "--study-name",
        default=None,
        metavar="NAME",
        help="study name; default $LRSEARCH_STUDY_NAME or 'lrsearch'",
    )


def storage_of(args: argparse.Namespace) -> str:
    return str(args.storage or default_storage())


def study_name_of(args: argparse.Namespace) -> str:
    return str(args.study_name or default_study_name())


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
