"""Small checks and text helpers shared by every layer (no imports beyond the standard library).

* :func:`is_number`, :func:`is_whole`: what a parameter value may be (``bool`` is not a number).
* :func:`check_whole`: a command-line count (``--trials``, ``--epochs``, ...), as a
  :class:`~lrsearch.errors.UsageError` naming the flag and an example.
* :func:`finite_or_none`, :func:`diverged_key`: history values and divergence.
* :func:`check_choice`: a name among choices, as Keras words it.
* :func:`first_line`, :func:`one_line`: an exception (or any text) shortened for a message.
* :func:`did_you_mean`: the closest valid name, for "unknown name" errors.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any

from lrsearch.errors import UsageError


def is_number(x: Any) -> bool:
    """A finite ``int`` or ``float`` (NumPy scalars included), not a ``bool``."""
    try:
        return not isinstance(x, bool) and math.isfinite(float(x)) and float(x) == x
    except (TypeError, ValueError):
        return False


def is_whole(x: Any) -> bool:
    """An ``int`` (NumPy integers included), not a ``bool``."""
    import numbers

    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_whole(flag: str, value: Any, *, minimum: int = 1, example: int = 10) -> int:
    """``value`` as an ``int`` when it is a whole number >= ``minimum``.

    Raises:
        UsageError: ``"--epochs must be a whole number >= 1 (received 0). Pass e.g. --epochs
            10."``
    """
    if not is_whole(value) or value < minimum:
        raise UsageError(
            f"--{flag} must be a whole number >= {minimum} (received {value!r}). Pass e.g. "
            f"--{flag} {max(example, minimum)}."
        )
    return int(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` when it is one of ``choices``; else Keras' message::

    ValueError: Argument `granularity` must be one of epoch, batch. Received: granularity='x'
    """
    options = list(choices)
    if value not in options:
        raise ValueError(
            f"Argument `{name}` must be one of {', '.join(map(str, options))}. "
            f"Received: {name}={value!r}"
        )
    return value


def finite_or_none(x: Any) -> float | None:
    """``float(x)`` when finite; ``None`` for NaN, infinity or a non-number (a history cell)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def diverged_key(logs: Any, keys: Iterable[str] = ("loss", "val_loss")) -> str | None:
    """The first of ``keys`` whose value in Keras' epoch ``logs`` is NaN or infinite, else
    ``None``: the sign of a diverged run."""
    for key in keys:
        value = (logs or {}).get(key)
        if value is not None and finite_or_none(value) is None:
            return str(key)
    return None


def first_line(text: Any, limit: int = 300) -> str:
    """The first line of ``text`` (an exception's message, say), at most ``limit`` characters."""
    return (str(text).splitlines() or [""])[0][:limit]


def one_line(exc: BaseException, limit: int = 300, *, with_type: bool = False) -> str:
    """The whole message of ``exc`` on one line (whitespace collapsed), shortened with "...".

    ``with_type`` prefixes the exception's class name: ``"ValueError: bad input"``.
    """
    text = " ".join(str(exc).split()) or "no message"
    text = text if len(text) <= limit else text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if with_type else text


def did_you_mean(word: str, choices: Iterable[Any], *, quote: str = "'") -> str:
    """``" Did you mean 'digits'?"`` for the closest of ``choices``, or ``""``.

    The word is compared lower-cased with ``-`` read as ``_``.
    """
    options = [str(c) for c in choices]
    normal = word.strip().lower().replace("-", "_")
    if normal in options and normal != word:
        return f" Did you mean {quote}{normal}{quote}?"
    close = difflib.get_close_matches(normal, options, n=1, cutoff=0.6)
    return f" Did you mean {quote}{close[0]}{quote}?" if close else ""
