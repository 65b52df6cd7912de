"""The optimizers lrsearch searches over, by name (pure Python, no Keras import)."""

from __future__ import annotations

from typing import Any

#: name -> (Keras class name, extra keyword arguments, whether ``momentum`` is searched)
OPTIMIZERS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "sgd": ("SGD", {}, True),
    "nesterov": ("SGD", {"nesterov": True}, True),
    "adam": ("Adam", {}, False),
    "rmsprop": ("RMSprop", {}, False),
    "adagrad": ("Adagrad", {}, False),
    "adadelta": ("Adadelta", {}, False),
}


def check_optimizer(name: Any) -> str:
    """Return ``name`` if it is a known optimizer, else raise ``ValueError`` naming the choices."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(
            f"Unknown optimizer: {name!r}. Valid optimizers: {', '.join(OPTIMIZERS)}."
        )
    return name


def uses_momentum(name: str) -> bool:
    """Whether the optimizer ``name`` takes the searched ``momentum`` argument."""
    return OPTIMIZERS[check_optimizer(name)][2]
