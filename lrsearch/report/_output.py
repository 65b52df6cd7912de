"""The output folder of ``report`` and ``compare``: checked, created, filled with PNG files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from lrsearch.errors import UsageError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: resolution of the PNG files
DPI = 130


def _not_a_file(out: str | Path) -> Path:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path} is a file, not a folder. Pass a folder for the output.")
    return path


def check_out_dir(out: str | Path) -> Path:
    """Check, without creating anything, that ``out`` can become the output folder.

    Raises:
        UsageError: ``out`` is a file, or its nearest existing parent is not a writable folder.
    """
    path = _not_a_file(out)
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and (not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK)):
        raise UsageError(
            f"Cannot write the output folder {path}: {parent} is not a writable folder. Pass "
            "an --out folder in a writable place."
        )
    return path


def prepare_out_dir(out: str | Path) -> Path:
    """Create ``out`` (and its parents); :class:`UsageError` when that is impossible."""
    path = _not_a_file(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"Cannot create the output folder {path} ({exc.strerror or exc}). Pass an --out "
            "folder in a writable place."
        ) from None
    return path


def save_axes_png(
    draw: Callable[[Axes], Any], path: Path, *, figsize: tuple[float, float]
) -> None:
    """Draw on a fresh figure (no pyplot, no window) and save it as a PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    draw(ax)
    fig.savefig(path, dpi=DPI, format="png")
