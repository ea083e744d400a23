"""How much of notebook 02's "fair experiment" result is the seed: both nets trained with seeds 0, 1 and 2.

Notebook 02 (section 5) trains an AlexNet-style net (7x7, 5x5, 3x3 x3, overlapping 3x3/2 pools) and a VGG-style net
(3x3 convs only, 2x2 pools) of equal parameters and MACs, once, with seed 0. One run cannot rank two close results;
this script repeats the run with several seeds, with the notebook's settings: the same two nets (their parameter
counts are asserted equal to the notebook's), Adam at 3e-3, the run profile's data, epochs and time budget, each net
seeded just before it is built (``settings.setup(seed)``). It prints one row per run and, per net, the spread.

Run (about 5 minutes in the cpu profile on 2 cores; use the machine-wide lock when timing matters)::

    python benchmarks/bench_alexnet_vgg_seeds.py                # seeds 0 1 2, cpu profile
    python benchmarks/bench_alexnet_vgg_seeds.py --seeds 0 1 2 3 4 --profile ci
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

import keras
from keras import layers

from workshop_utils import data, settings, training
from workshop_utils.architectures.alexnet import alexnet, conv_block, dense_block

#: The notebook's two nets, by parameter count (32x32x3 input, 10 classes): a changed net fails loudly.
NOTEBOOK_PARAMS = {"alexnet_style": 82_690, "vgg_style": 86_242}


def alexnet_style(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    """Notebook 02's AlexNet-style net: the reference AlexNet with small widths, 7x7 and 5x5 early kernels, BN.

    Example::

        alexnet_style((32, 32, 3), 10).count_params()   # 82,690
    """
    return alexnet(input_shape=input_shape, classes=classes, filters=(8, 16, 32, 32, 32), kernel_sizes=(7, 5, 3, 3, 3),
                   first_stride=1, first_padding="same", fc_units=128, dropout=0.0, batch_norm=True,
                   name="alexnet_style")


def vgg_style(input_shape: tuple[int, int, int], classes: int,
              blocks: Sequence[tuple[int, int]] = ((8, 3), (16, 2), (24, 3))) -> keras.Model:
    """Notebook 02's VGG-style net: blocks of 3x3 conv-BN-ReLU + 2x2 max pool, then FC 128-128 and the classifier.

    Example::

        vgg_style((32, 32, 3), 10).count_params()   # 86,242
    """
    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for index, (filters, convs) in enumerate(blocks, start=1):
        for conv in range(1, convs + 1):
            x = conv_block(x, filters, 3, batch_norm=True, name=f"block{index}_conv{conv}")
        x = layers.MaxPooling2D(2, strides=2, name=f"block{index}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = dense_block(x, 128, 0.0, "fc1")
    x = dense_block(x, 128, 0.0, "fc2")
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg_style")


BUILDERS = {"alexnet_style": alexnet_style, "vgg_style": vgg_style}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", default="cpu", choices=("ci", "cpu", "gpu"))
    args = parser.parse_args(argv)

    run = settings.setup(seed=args.seeds[0], profile=args.profile, verbose=False)
    dataset = data.load_dataset()
    print(f"{run.describe()}\nKeras {keras.__version__} on {keras.config.backend()}; {dataset.name}")
    print(f"{'net':14}{'seed':>5}{'epochs':>7}{'s':>6}{'images/s':>9}{'val. acc.':>10}{'test acc.':>10}")
    results: dict[str, list[training.TrainResult]] = {name: [] for name in BUILDERS}
    for seed in args.seeds:
        for name, build in BUILDERS.items():
            settings.setup(seed=seed, profile=args.profile, verbose=False)  # seeded just before the net is built
            model = build(dataset.input_shape, dataset.num_classes)
            if dataset.input_shape == (32, 32, 3) and dataset.num_classes == 10:
                assert model.count_params() == NOTEBOOK_PARAMS[name], (name, model.count_params())
            result = training.train_classifier(model, dataset, run, learning_rate=3e-3, progress=False)
            results[name].append(result)
            epochs = f"{result.epochs_run}{'*' if result.stopped_by_budget else ''}"
            print(f"{name:14}{seed:>5}{epochs:>7}{result.train_seconds:>6.1f}{result.images_per_second:>9,.0f}"
                  f"{result.val_accuracy:>10.1%}{result.test_accuracy:>10.1%}", flush=True)
    print("\nper net over seeds " + ", ".join(map(str, args.seeds)) + " (min / mean / max):")
    for name, runs in results.items():
        accuracies = [r.test_accuracy for r in runs]
        speeds = [r.images_per_second for r in runs]
        print(f"{name:14} test accuracy {min(accuracies):.1%} / {statistics.mean(accuracies):.1%} / "
              f"{max(accuracies):.1%}; images/s {min(speeds):,.0f} / {statistics.mean(speeds):,.0f} / {max(speeds):,.0f}")
    if any(r.stopped_by_budget for runs in results.values() for r in runs):
        print("* stopped by the time budget: its last epoch is partial")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
