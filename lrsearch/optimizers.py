"""The optimizers lrsearch searches over, by name (pure Python, no Keras import)."""

from __future__ import annotations

from typing import Any

from lrsearch.checks import did_you_mean

#: name -> (Keras class name, extra keyword arguments, whether ``momentum`` is searched)
OPTIMIZERS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "sgd": ("SGD", {}, True),
    "nesterov": ("SGD", {"nesterov": True}, True),
    "adam": ("Adam", {}, False),
    "rmsprop": ("RMSprop", {}, False),
    "adagrad": ("Adagrad", {}, False),
    "adadelta": ("Adadelta", {}, False),
}

#: name -> default ``(low, high)`` search range of ``initial_lr`` (searched log-uniformly).
#: The one home of these defaults: ``SearchSpace``, ``lrsearch tune`` and study files use it.
#:
#: - ``sgd``, ``nesterov``: 1e-4..1, the range of the articles (plain SGD with momentum
#:   trains well from about 0.01 to 0.5 on small networks; 1 is where it usually diverges).
#: - ``adam``, ``rmsprop``: 1e-5..1e-1. Keras' default is 1e-3 for both; the step of an
#:   adaptive optimizer is about ``lr`` per weight whatever the gradient's scale, so rates
#:   above ~1e-2 rarely train and 1e-5 is the usual fine-tuning floor. Four decades centred
#:   (log) on 1e-3.
#: - ``adagrad``: 1e-3..1. Keras' default is 1e-3, PyTorch's 1e-2, and Duchi et al. /
#:   TensorFlow examples use 0.01..0.5: Adagrad's accumulated squared gradients shrink its
#:   steps, so it wants a larger rate than Adam.
#: - ``adadelta``: 1e-2..10. Keras' default is 1e-3, but its documentation notes that Adadelta
#:   "tends to benefit from higher initial learning rate values" and that 1.0 is the original
#:   paper's form (Zeiler 2012 has no rate; PyTorch's default is 1.0). Its first steps are
#:   about ``lr * sqrt(epsilon)``, so 1e-3 barely moves in a short budget; 1.0 sits inside.
DEFAULT_INITIAL_LR: dict[str, tuple[float, float]] = {
    "sgd": (1e-4, 1.0),
    "nesterov": (1e-4, 1.0),
    "adam": (1e-5, 1e-1),
    "rmsprop": (1e-5, 1e-1),
    "adagrad": (1e-3, 1.0),
    "adadelta": (1e-2, 10.0),
}


def check_optimizer(name: Any) -> str:
    """Return ``name`` if it is a known optimizer, else raise ``ValueError`` naming the choices."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        hint = did_you_mean(name, OPTIMIZERS) if isinstance(name, str) else ""
        raise ValueError(
            f"Unknown optimizer: {name!r}.{hint} Valid optimizers: {', '.join(OPTIMIZERS)}."
        )
    return name


def uses_momentum(name: str) -> bool:
    """Whether the optimizer ``name`` takes the searched ``momentum`` argument."""
    return OPTIMIZERS[check_optimizer(name)][2]


def default_initial_lr(name: str) -> tuple[float, float]:
    """The default ``(low, high)`` search range of ``initial_lr`` for the optimizer ``name``."""
    return DEFAULT_INITIAL_LR[check_optimizer(name)]
