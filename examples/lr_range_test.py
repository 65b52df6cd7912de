"""The learning-rate range test of the MachineCurve article, with lrsearch.

The article ("Finding optimal learning rates with the Learning Rate Range Test") runs the test
for a small ConvNet on MNIST twice, once with SGD and once with Adam, and plots both loss
curves against the learning rate to pick a rate for each (and to compare the optimizers).
This script does the same with :func:`lrsearch.rangetest.find_lr`, which also restores the
model's weights after each test (so both tests start from the same initial weights, as the
article's re-compiling of one model intends) and reads the suggestion off the curve.

By default it runs on scikit-learn's bundled 8x8 digits (no network, well under a minute on a
laptop CPU); ``--dataset mnist`` reproduces the article's setting (batch size 250, 5 epochs,
rates from 1e-4 to 1; Keras downloads MNIST once)::

    python examples/lr_range_test.py --out lr_range_test.png
    python examples/lr_range_test.py --dataset mnist --subsample 20000 --out mnist_lr.png
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the example."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="digits", help="digits (default) or mnist, ...")
    p.add_argument("--out", default="lr_range_test.png", help="PNG with both curves")
    p.add_argument("--batch-size", type=int, default=None, help="32 on digits, 250 otherwise")
    p.add_argument("--epochs", type=int, default=None, help="5 (the article's), 8 on digits")
    p.add_argument("--start-lr", type=float, default=1e-4, help="first rate (1e-4)")
    p.add_argument("--end-lr", type=float, default=1.0, help="last rate (1)")
    p.add_argument("--subsample", type=int, default=None, help="use N random examples")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the range test for SGD and Adam on one ConvNet; save both curves in one plot."""
    args = parse_args(argv)
    small = args.dataset == "digits"
    batch_size = args.batch_size or (32 if small else 250)
    epochs = args.epochs or (8 if small else 5)

    import keras
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lrsearch.data import load_dataset
    from lrsearch.models import build_model
    from lrsearch.rangetest import find_lr

    data = load_dataset(args.dataset, seed=args.seed, subsample=args.subsample)
    keras.utils.set_random_seed(args.seed)
    model = build_model("cnn", data.input_shape, data.n_classes)

    tests = [
        (keras.optimizers.SGD(), "SGD optimizer"),
        (keras.optimizers.Adam(), "Adam optimizer"),
    ]
    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    for optimizer, label in tests:
        model.compile(
            optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        began = time.perf_counter()
        result = find_lr(
            model,
            data.x_train,
            data.y_train,
            start_lr=args.start_lr,
            end_lr=args.end_lr,
            batch_size=batch_size,
            epochs=epochs,
            seed=args.seed,
        )
        seconds = time.perf_counter() - began
        if result.suggested_lr is None:
            verdict = f"no suggestion ({result.reason})"
        else:
            verdict = f"suggested lr {result.suggested_lr:.3g} via {result.method}"
            if not result.confident:
                verdict += f", not confident: {result.reason}"
        low = min(result.losses)
        print(
            f"{label}: {len(result.lrs)} steps in {seconds:.1f} s, lowest smoothed loss "
            f"{low:.3f}; {verdict}"
        )
        result.plot(ax=ax, label=label)

    ax.set_title(
        f"Learning-rate range test: ConvNet on {args.dataset}, SGD vs Adam", fontsize="medium"
    )
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"plot written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
