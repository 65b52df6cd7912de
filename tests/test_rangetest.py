"""The learning-rate range test: restoring the model, the curve, the readings, the plot."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from lrsearch.rangetest import MIN_AUTO_STEPS  # noqa: E402
from lrsearch.rangetest import LRFinderResult  # noqa: E402
from lrsearch.rangetest import _suggest  # noqa: E402
from lrsearch.rangetest import find_lr  # noqa: E402
from lrsearch.rangetest import planned_steps  # noqa: E402

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits, scaled to [0, 1], a fixed 80/20 split."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int32")
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    n_val = len(x) // 5
    return x[n_val:], y[n_val:], x[:n_val], y[:n_val]


def mlp(
    optimizer: keras.optimizers.Optimizer | None = None, *, seed: int = 0, dropout: bool = False
) -> keras.Model:
    """Dense 64 relu -> 10 softmax on 64 features, compiled (plain SGD by default)."""
    keras.utils.set_random_seed(seed)
    layers: list[Any] = [keras.Input((64,)), keras.layers.Dense(64, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(0.2))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=optimizer or keras.optimizers.SGD(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def state(model: keras.Model) -> list[np.ndarray]:
    """Every value the range test could touch: model variables and optimizer variables."""
    return [np.array(v.numpy()) for v in [*model.variables, *model.optimizer.variables]]


def assert_same_state(before: list[np.ndarray], after: list[np.ndarray]) -> None:
    assert len(before) == len(after)
    for a, b in zip(before, after, strict=True):
        assert np.array_equal(a, b)


# --------------------------------------------------------------------------- restoring


def test_restores_weights_and_state_of_a_trained_model(digits: Any) -> None:
    x, y, _, _ = digits
    model = mlp(keras.optimizers.Adam(learning_rate=0.002), dropout=True)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)  # optimizer built, moments non-zero
    before = state(model)
    assert float(model.optimizer.iterations.numpy()) > 0

    result = find_lr(model, x, y, num_steps=60)

    assert len(result.lrs) > 20
    assert_same_state(before, state(model))
    assert math.isclose(float(model.optimizer.learning_rate.numpy()), 0.002, rel_tol=1e-6)


def test_restores_an_optimizer_that_was_never_built(digits: Any) -> None:
    x, y, _, _ = digits
    model = mlp(keras.optimizers.SGD(learning_rate=0.05, momentum=0.9))
    assert not model.optimizer.built
    weights = [w.copy() for w in model.get_weights()]

    find_lr(model, x, y, num_steps=40)

    for a, b in zip(weights, model.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert model.optimizer.built
    assert int(model.optimizer.iterations.numpy()) == 0
    assert math.isclose(float(model.optimizer.learning_rate.numpy()), 0.05, rel_tol=1e-6)
    for variable in model.optimizer.variables:  # momentum buffers back at their zero state
        if "momentum" in variable.path:
            assert not np.any(variable.numpy())
    # Training afterwards works as if the test never ran.
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)


def test_builds_an_unbuilt_model_and_restores_it(digits: Any) -> None:
    x, y, _, _ = digits
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10)])
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    result = find_lr(model, x, y, num_steps=30)
    assert model.built and len(result.lrs) >= 20
    weights = [w.copy() for w in model.get_weights()]
    find_lr(model, x, y, num_steps=30)
    for a, b in zip(weights, model.get_weights(), strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_restores_state_when_the_test_is_interrupted(
    digits: Any, monkeypatch: pytest.MonkeyPatch, error: type[BaseException]
) -> None:
    x, y, _, _ = digits
    model = mlp(keras.optimizers.SGD(learning_rate=0.01, momentum=0.9))
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    before = state(model)
    original: Callable[..., Any] = model.train_on_batch
    calls = {"n": 0}

    def failing_train_on_batch(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 7:
            raise error("stop in the middle of the test")
        return original(*args, **kwargs)

    monkeypatch.setattr(model, "train_on_batch", failing_train_on_batch)
    with pytest.raises(error, match="stop in the middle"):
        find_lr(model, x, y, num_steps=50)

    assert calls["n"] == 7
    assert_same_state(before, state(model))


# --------------------------------------------------------------------------- the curve


def test_curve_shape_and_suggestion_range(digits: Any) -> None:
    x, y, _, _ = digits
    result = find_lr(mlp(), x, y, start_lr=1e-5, end_lr=10.0, num_steps=150)

    lrs = np.array(result.lrs)
    assert len(lrs) >= 20
    assert lrs[0] == pytest.approx(1e-5)
    assert np.all(np.diff(lrs) > 0)
    ratios = lrs[1:] / lrs[:-1]  # exponential: one constant factor per step
    assert np.allclose(ratios, (10.0 / 1e-5) ** (1 / 149))
    assert len(result.losses) == len(result.raw_losses) == len(lrs)
    assert all(math.isfinite(v) for v in result.losses)
    assert result.losses[0] == pytest.approx(result.raw_losses[0])
    assert result.suggested_lr is not None
    assert 1e-5 <= result.suggested_lr <= 10.0
    assert set(result.suggestions) == {"steepest", "min_div_10", "valley"}
    assert result.method in result.suggestions
    assert result.suggestions[result.method] == result.suggested_lr


def test_runs_to_end_lr_without_divergence(digits: Any) -> None:
    x, y, _, _ = digits
    result = find_lr(mlp(), x, y, start_lr=1e-4, end_lr=1e-2, num_steps=25)
    assert len(result.lrs) == 25
    assert result.lrs[-1] == pytest.approx(1e-2)
    assert result.diverged_lr is None


def test_epochs_give_epochs_times_steps_per_epoch(digits: Any) -> None:
    x, y, _, _ = digits
    result = find_lr(mlp(), x[:320], y[:320], end_lr=1e-3, batch_size=64, epochs=41)
    assert len(result.lrs) == 205  # 41 epochs x 5 batches, above the floor of 200


def test_small_data_is_cycled_up_to_the_floor_of_steps(digits: Any) -> None:
    """One pass over 320 examples is 5 batches: the test still runs MIN_AUTO_STEPS steps."""
    x, y, _, _ = digits
    result = find_lr(mlp(), x[:320], y[:320], end_lr=1e-3, batch_size=64)
    assert len(result.lrs) == MIN_AUTO_STEPS == 200
    assert result.lrs[-1] == pytest.approx(1e-3)
    assert result.diverged_lr is None


def test_planned_steps_is_the_one_rule() -> None:
    assert planned_steps(1437, 32) == 200  # 45 per epoch: the floor
    assert planned_steps(1437, 32, epochs=5) == 225
    assert planned_steps(1437, 32, epochs=5, num_steps=120) == 120  # given: used as is
    assert planned_steps(10, 64) == 200  # batch larger than the data: one batch per pass
    assert planned_steps(100_000, 64) == 1563


def test_explicit_num_steps_below_the_floor_is_kept(digits: Any) -> None:
    x, y, _, _ = digits
    assert len(find_lr(mlp(), x, y, end_lr=1e-3, num_steps=12).lrs) == 12
    one = find_lr(mlp(), x, y, num_steps=1)  # allowed, but nothing to read
    assert len(one.lrs) == 1 and one.lrs[0] == pytest.approx(1e-6)
    assert one.suggested_lr is None and not one.confident
    assert "too few points" in one.reason


def test_stops_when_the_loss_diverges(digits: Any) -> None:
    x, y, _, _ = digits
    result = find_lr(mlp(), x, y, start_lr=1e-3, end_lr=1e4, num_steps=120)
    assert result.diverged_lr is not None
    assert result.lrs[-1] <= result.diverged_lr < 1e4
    assert len(result.lrs) < 120
    assert all(math.isfinite(v) for v in result.raw_losses)
    low, high = result.band()
    assert result.lrs[0] <= low < high <= result.lrs[-1]


def test_validation_data_is_used_for_the_loss(digits: Any) -> None:
    x, y, x_val, y_val = digits
    result = find_lr(
        mlp(), x, y, start_lr=1e-3, end_lr=3.0, num_steps=30, validation_data=(x_val, y_val)
    )
    assert len(result.lrs) >= 20
    train_only = find_lr(mlp(), x, y, start_lr=1e-3, end_lr=3.0, num_steps=30)
    assert result.raw_losses != train_only.raw_losses


def test_plain_sgd_is_told_from_averaging_optimizers() -> None:
    from lrsearch.rangetest._finder import _is_plain_sgd

    assert _is_plain_sgd(keras.optimizers.SGD())
    assert _is_plain_sgd(keras.optimizers.SGD(learning_rate=0.1, momentum=0.0))
    assert not _is_plain_sgd(keras.optimizers.SGD(momentum=0.9))
    assert not _is_plain_sgd(keras.optimizers.SGD(momentum=0.9, nesterov=True))
    assert not _is_plain_sgd(keras.optimizers.Adam())
    assert not _is_plain_sgd(keras.optimizers.RMSprop())
    assert _is_plain_sgd(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()))


def test_schedule_optimizer_is_refused(digits: Any) -> None:
    x, y, _, _ = digits
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    model = mlp(keras.optimizers.SGD(learning_rate=schedule))
    with pytest.raises(ValueError, match="float learning rate"):
        find_lr(model, x, y)


def test_uncompiled_model_is_refused(digits: Any) -> None:
    x, y, _, _ = digits
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="compiled"):
        find_lr(model, x, y)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_lr": 0}, "Argument `start_lr` must be > 0. Received: start_lr=0"),
        ({"start_lr": -1e-3}, "Argument `start_lr` must be > 0. Received: start_lr=-0.001"),
        ({"start_lr": 1.0, "end_lr": 0.1}, "Argument `end_lr` must be > start_lr"),
        ({"end_lr": float("inf")}, "Argument `end_lr` must be > start_lr"),
        ({"batch_size": 0}, "Argument `batch_size` must be >= 1. Received: batch_size=0"),
        ({"batch_size": 32.0}, "Argument `batch_size` must be an integer >= 1. Received: "),
        ({"epochs": 0}, "Argument `epochs` must be >= 1. Received: epochs=0"),
        ({"num_steps": 0}, "Argument `num_steps` must be >= 1. Received: num_steps=0"),
        ({"num_steps": -5}, "Argument `num_steps` must be >= 1. Received: num_steps=-5"),
        ({"num_steps": 2.5}, "Argument `num_steps` must be an integer >= 1. Received: "),
        ({"smoothing": 1.0}, "Argument `smoothing` must be in [0, 1)"),
        ({"diverge_factor": 1.0}, "Argument `diverge_factor` must be > 1"),
        ({"verbose": 3}, "Argument `verbose` must be 0, 1 or 2"),
    ],
)
def test_bad_arguments(digits: Any, kwargs: dict[str, Any], message: str) -> None:
    x, y, _, _ = digits
    with pytest.raises(ValueError) as info:
        find_lr(mlp(), x, y, **kwargs)
    assert message in str(info.value)


def test_mismatched_data_is_refused(digits: Any) -> None:
    x, y, _, _ = digits
    with pytest.raises(ValueError, match="same number of samples"):
        find_lr(mlp(), x, y[:-1])


# --------------------------------------------------------------------------- result


def test_to_dict_is_json(digits: Any) -> None:
    x, y, _, _ = digits
    result = find_lr(mlp(), x, y, num_steps=60)
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    for key in (
        "suggested_lr",
        "lrs",
        "losses",
        "raw_losses",
        "suggestions",
        "method",
        "confident",
        "reason",
        "diverged_lr",
    ):
        assert key in data
    assert data["lrs"] == result.lrs
    assert set(data["suggestions"]) == {"steepest", "min_div_10", "valley"}


def test_result_is_frozen() -> None:
    result = LRFinderResult.from_curve([1e-3, 1e-2], [1.0, 0.9])
    with pytest.raises(AttributeError):
        result.suggested_lr = 1.0  # type: ignore[misc]


def test_plot_returns_log_axes_and_saves_a_png(tmp_path: Path) -> None:
    lrs, losses = u_curve()
    result = LRFinderResult.from_curve(list(lrs), list(losses), smoothing=0.0)
    ax = result.plot()
    assert ax.get_xscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert any("suggested lr" in str(label) for label in labels)
    path = tmp_path / "curve.png"
    figure = ax.figure
    assert isinstance(figure, Figure)
    figure.savefig(path)
    data = path.read_bytes()
    assert data[:4] == b"\x89PNG"
    assert len(data) > 5_000

    import matplotlib.pyplot as plt

    fig, shared = plt.subplots()
    assert result.plot(ax=shared, label="a") is shared
    assert result.plot(ax=shared, label="b") is shared
    assert len([ln for ln in shared.get_lines() if ln.get_label() in ("a", "b")]) == 2
    plt.close("all")


def test_plot_without_suggestion_says_why() -> None:
    lrs = np.geomspace(1e-6, 1.0, 60)
    result = LRFinderResult.from_curve(list(lrs), [2.3] * 60, smoothing=0.0)
    assert result.suggested_lr is None
    ax = result.plot()
    assert "never decreased" in ax.get_title()
    import matplotlib.pyplot as plt

    plt.close("all")


# --------------------------------------------------------------------------- readings (pure)


def u_curve(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Flat, a smooth descent centred on 1e-2, a minimum near 0.3, then a steep rise."""
    lrs = np.geomspace(1e-6, 10.0, n)
    u = np.log10(lrs)
    losses = 2.3 - 1.8 / (1.0 + np.exp(-(u + 2.0) * 3.0)) + 4.0 * np.maximum(0.0, u + 0.5) ** 2
    return lrs, losses


def test_u_curve_suggests_a_rate_on_the_descent() -> None:
    lrs, losses = u_curve()
    suggested, suggestions, method, confident, reason = _suggest.suggest(lrs, losses)
    assert suggested is not None and confident and reason == ""
    i_min = int(np.argmin(losses))
    descent_start = lrs[np.argmax(losses < 2.2)]
    assert descent_start < suggested <= lrs[i_min] / 10
    assert suggestions["steepest"] == pytest.approx(1e-2, rel=0.3)
    assert suggestions["min_div_10"] == pytest.approx(lrs[i_min] / 10)
    assert suggestions["valley"] is not None
    assert descent_start < suggestions["valley"] < lrs[i_min]
    # the conservative reading: the lower of valley and min / 10, never the steepest slope
    assert method in ("valley", "min_div_10")
    assert suggested == min(suggestions["valley"], suggestions["min_div_10"])
    # plain SGD: the valley, which lies below the diverging end here
    plain = _suggest.suggest(lrs, losses, plain_sgd=True)
    assert plain.method == "valley" and plain.suggested_lr == suggestions["valley"]
    assert plain.suggested_lr < lrs[i_min] / 3


#: raw losses recorded by ``find_lr(model, x, y, batch_size=32, num_steps=44)`` on 1,437
#: digits with the built-in mlp and SGD (momentum 0.9): one pass over the data, the old
#: default of the Python API. The loss is flat for 27 steps, falls for nine, then explodes.
RECORDED_44_STEPS = [
    2.3662, 2.3402, 2.3312, 2.3096, 2.3431, 2.3289, 2.3022, 2.2976, 2.3361, 2.3637, 2.3326,
    2.3391, 2.3331, 2.3237, 2.3822, 2.3385, 2.2984, 2.3817, 2.3574, 2.3312, 2.3201, 2.3347,
    2.3782, 2.3343, 2.3264, 2.2939, 2.3324, 2.2782, 2.274, 2.2223, 2.1868, 2.1642, 2.0868,
    1.996, 1.8416, 1.7058, 1.425, 2.5408, 8.7202, 17.5206, 7.2204, 49.8197, 60.0349, 306.5933,
]  # fmt: skip


def test_coarse_curve_is_not_confident_and_stays_off_the_diverging_end() -> None:
    """The issue's curve: the steepest slope is the loss minimum, where the loss blows up."""
    lrs = np.geomspace(1e-6, 10.0, len(RECORDED_44_STEPS))
    result = LRFinderResult.from_curve(list(lrs), RECORDED_44_STEPS)
    losses = np.array(result.losses)
    i_min = int(np.argmin(losses[: int(np.argmax(losses > 2.4))]))  # before the explosion
    steepest = result.suggestions["steepest"]
    assert steepest is not None and steepest >= lrs[i_min] / 3  # at the edge: 0.73
    assert not result.confident and "disagree" in result.reason
    assert result.suggested_lr is not None and result.method != "steepest"
    assert result.suggested_lr <= lrs[i_min] / 10
    assert result.suggested_lr < steepest / 30


def _random_curve(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A range-test-like curve: plateau, descent, minimum, blow-up, noise; 20..250 points."""
    n = int(rng.integers(20, 250))
    end = float(rng.choice([1e-1, 1.0, 10.0]))
    lrs = np.geomspace(1e-6, end, n)
    u = np.log10(lrs)
    centre = rng.uniform(-5.0, np.log10(end) - 0.5)
    width = rng.uniform(0.1, 1.5)
    drop = rng.uniform(0.1, 2.0)
    losses = 2.3 - drop / (1.0 + np.exp(-(u - centre) / width))
    turn = centre + rng.uniform(0.0, 2.5)
    losses = losses + rng.uniform(1.0, 50.0) * np.clip(u - turn, 0.0, None) ** 2
    raw = losses + rng.normal(0.0, rng.uniform(0.0, 0.2), n)
    smoothed = _suggest.ema(raw, float(rng.choice([0.0, 0.6, 0.9, 0.98])))
    return lrs, smoothed


@pytest.mark.parametrize("plain_sgd", [False, True], ids=["averaging", "plain-sgd"])
def test_no_suggestion_ever_comes_from_the_diverging_end(plain_sgd: bool) -> None:
    """On 500 random curves, confident or not: the suggestion is below min_lr / 3.

    ``min_lr`` is the rate of the lowest loss past the first tenth of the curve: from half a
    decade below it upwards the loss stops falling and soon blows up.
    """
    rng = np.random.default_rng(14)
    seen = {"confident": 0, "not confident": 0}
    for _ in range(500):
        lrs, losses = _random_curve(rng)
        result = _suggest.suggest(lrs, losses, plain_sgd=plain_sgd)
        if result.suggested_lr is None:
            continue
        seen["confident" if result.confident else "not confident"] += 1
        skip = max(1, lrs.size // 10)
        min_lr = lrs[skip + int(np.argmin(losses[skip:]))]
        assert result.suggested_lr < min_lr / 3, (result, min_lr)
        assert result.method in ("valley", "min_div_10")
        conservative = [v for k, v in result.suggestions.items() if k != "steepest" and v]
        if not plain_sgd:
            assert result.suggested_lr == min(conservative)
    assert seen["not confident"] >= 50 and seen["confident"] >= 50, seen


@pytest.mark.parametrize(
    "shape",
    [
        lambda u: np.full_like(u, 2.3),
        lambda u: 2.3 + 0.3 * (u + 6.0),
        lambda u: 2.3 + np.exp(u),
    ],
    ids=["flat", "rising", "exploding"],
)
def test_curve_that_never_descends_gives_none(shape: Callable[[np.ndarray], np.ndarray]) -> None:
    lrs = np.geomspace(1e-6, 10.0, 80)
    losses = shape(np.log10(lrs)) + np.random.default_rng(0).normal(0.0, 0.005, lrs.size)
    result = _suggest.suggest(lrs, losses)
    assert result.suggested_lr is None
    assert result.method is None
    assert not result.confident
    assert "never decreased" in result.reason
    assert all(v is None for v in result.suggestions.values())


def test_disagreeing_readings_are_not_confident() -> None:
    # A sharp drop at 1e-5, then a long slow slide to a minimum near 3: the steepest descent
    # and the minimum / 10 are four decades apart.
    lrs = np.geomspace(1e-6, 10.0, 120)
    u = np.log10(lrs)
    losses = 2.3 - 1.0 / (1.0 + np.exp(-(u + 5.0) * 8.0)) - 0.08 * (u + 6.0)
    losses = losses + 3.0 * np.maximum(0.0, u - 0.5) ** 2
    suggested, suggestions, method, confident, reason = _suggest.suggest(lrs, losses)
    assert suggested is not None and method is not None
    assert not confident
    assert "disagree by more than 30x" in reason
    values = [v for v in suggestions.values() if v is not None]
    assert max(values) / min(values) > 30


def test_still_falling_at_the_end_is_not_confident() -> None:
    lrs = np.geomspace(1e-6, 1e-1, 80)
    losses = 2.3 - 1.5 / (1.0 + np.exp(-(np.log10(lrs) + 2.0) * 3.0))
    result = _suggest.suggest(lrs, losses)
    assert result.suggested_lr is not None
    assert not result.confident
    assert "raise `end_lr`" in result.reason


def test_too_short_curve_gives_none() -> None:
    result = _suggest.suggest([1e-3, 1e-2, 1e-1], [2.0, 1.0, 3.0])
    assert result.suggested_lr is None
    assert "too few points" in result.reason


def test_too_short_test_that_never_descends_hints_at_more_steps() -> None:
    lrs = np.geomspace(1e-6, 10.0, 23)
    result = _suggest.suggest(lrs, np.full(23, 2.3))
    assert "never decreased" in result.reason and "more epochs or steps" in result.reason


def test_bad_curves_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        _suggest.suggest([1e-3, 1e-2], [1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        _suggest.suggest([1e-2, 1e-3], [1.0, 2.0])


def test_ema_with_bias_correction() -> None:
    raw = np.array([2.0, 1.0, 3.0, 0.5])
    beta = 0.9
    expected, avg = [], 0.0
    for i, value in enumerate(raw):
        avg = beta * avg + (1 - beta) * value
        expected.append(avg / (1 - beta ** (i + 1)))
    assert np.allclose(_suggest.ema(raw, beta), expected)
    assert _suggest.ema(raw, beta)[0] == pytest.approx(2.0)
    assert np.array_equal(_suggest.ema(raw, 0.0), raw)


def test_band_lies_inside_the_tested_range() -> None:
    lrs, losses = u_curve()
    result = LRFinderResult.from_curve(list(lrs), list(losses), smoothing=0.0)
    low, high = result.band()
    assert result.suggested_lr is not None
    assert low == pytest.approx(result.suggested_lr / 10)
    i_min = int(np.argmin(losses))
    assert lrs[i_min] < high < lrs[-1]  # where the loss has climbed half way back up
    assert lrs[0] <= low < high <= lrs[-1]

    diverged = LRFinderResult.from_curve(
        list(lrs[:70]), list(losses[:70]), smoothing=0.0, diverged_lr=float(lrs[69])
    )
    low, high = diverged.band()
    assert low < high <= lrs[69]

    flat = LRFinderResult.from_curve(list(lrs), [2.3] * len(lrs), smoothing=0.0)
    with pytest.raises(ValueError, match="never descended"):
        flat.band()


def test_band_clips_a_low_suggestion_to_the_start() -> None:
    low, high = _suggest.band([1e-3, 1e-2, 1e-1], [2.0, 1.0, 0.5], 1e-3, {}, None)
    assert (low, high) == (1e-3, 1e-1)


# --------------------------------------------------------------------------- usefulness


def builtin_mlp(lr: float, momentum: float) -> keras.Model:
    """lrsearch's own mlp (Flatten, Dense 512, Dense 200, softmax) with SGD, seed 0."""
    from lrsearch.models import build_model

    keras.utils.set_random_seed(0)
    model = build_model("mlp", (64,), 10)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=momentum),
        loss="sparse_categorical_crossentropy",
    )
    return model


@pytest.mark.parametrize("momentum", [0.0, 0.9], ids=["sgd", "sgd-momentum"])
def test_defaults_on_1400_digits_suggest_a_rate_that_trains(digits: Any, momentum: float) -> None:
    """The issue's call: ``find_lr(model, x, y, batch_size=32)``, nothing else.

    One pass is 45 batches; the floor makes it 200 steps. The suggestion, used as a constant
    rate for 4 epochs, trains about as well as the best of a grid of rates (before the floor and
    the conservative reading, this call suggested a rate at which the model diverges).
    """
    x, y, x_val, y_val = digits
    assert len(x) // 32 < 50

    result = find_lr(builtin_mlp(0.01, momentum), x, y, batch_size=32)
    assert len(result.lrs) > 100  # several passes over the data, not one
    assert result.suggested_lr is not None, result.reason

    def val_loss(lr: float) -> float:
        model = builtin_mlp(lr, momentum)
        history = model.fit(
            x, y, batch_size=32, epochs=4, validation_data=(x_val, y_val), verbose=0
        )
        finite = [v for v in history.history["val_loss"] if math.isfinite(v)]
        return min(finite) if finite else math.inf

    grid = {lr: val_loss(lr) for lr in (0.01, 0.03, 0.1, 0.3)}
    best = min(grid.values())
    suggested = val_loss(result.suggested_lr)
    print(f"suggested {result.suggested_lr:.3g} ({result.method}): {suggested:.4f}; grid {grid}")
    assert suggested <= 1.6 * best + 0.02


@pytest.mark.slow
def test_suggested_rate_trains_about_as_well_as_the_best_of_a_grid(digits: Any) -> None:
    """The suggestion, used as a constant rate for 8 epochs, is within 1.6x of a grid's best."""
    x, y, x_val, y_val = digits

    def val_loss(lr: float) -> float:
        model = mlp(keras.optimizers.SGD(learning_rate=lr))
        keras.utils.set_random_seed(0)
        history = model.fit(
            x, y, batch_size=64, epochs=8, validation_data=(x_val, y_val), verbose=0
        )
        losses = [v for v in history.history["val_loss"] if math.isfinite(v)]
        return min(losses) if losses else math.inf

    # The test costs as much as one 8-epoch training run.
    result = find_lr(mlp(), x, y, epochs=8, batch_size=64)
    assert result.suggested_lr is not None and result.confident, result.reason
    grid = {lr: val_loss(lr) for lr in (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)}
    best = min(grid.values())
    suggested = val_loss(result.suggested_lr)
    print(
        f"suggested lr {result.suggested_lr:.3g} ({result.method}): val_loss {suggested:.4f}; "
        f"grid best {min(grid, key=grid.__getitem__)}: {best:.4f}; grid {grid}"
    )
    assert suggested <= 1.6 * best
