"""How many steps a range test runs: one rule for :func:`find_lr` and ``lrsearch find-lr``.

Pure Python (no numpy, no Keras), so the command line can show the floor in ``--help``
without importing anything heavy.
"""

from __future__ import annotations

import math

#: without ``num_steps`` the test runs at least this many steps, cycling through small data:
#: fewer points give no readable curve (one pass over 1,400 examples in batches of 32 is only
#: 44 steps, about six per decade of learning rate from 1e-6 to 10)
MIN_AUTO_STEPS = 200


def planned_steps(
    n_samples: int, batch_size: int, epochs: int = 1, num_steps: int | None = None
) -> int:
    """The number of steps of a range test: ``num_steps`` when given, else the floor applies.

    Without ``num_steps``: ``max(MIN_AUTO_STEPS, epochs * ceil(n / min(batch_size, n)))``,
    i.e. ``epochs`` passes over the data but never fewer than :data:`MIN_AUTO_STEPS` steps
    (the data is then cycled, reshuffled on each pass). An explicit ``num_steps`` is used as
    given.
    """
    if num_steps is not None:
        return int(num_steps)
    n = max(int(n_samples), 1)
    per_epoch = math.ceil(n / min(max(int(batch_size), 1), n))
    return max(MIN_AUTO_STEPS, int(epochs) * per_epoch)
