"""Does the channel shuffle matter? The notebook 05 small ShuffleNet with and without it, over several seeds.

The paper's table 3 question on the offline data: the same small ShuffleNet for 32x32 images (g = 4, stages of
96-192-384 channels, 2 units each, stem stride 1, no max pool, BN momentum 0.9, grouped convs in the fast
split form), trained with
``training.train_classifier`` on the ``cpu`` run profile's data, once with every channel shuffle and once without,
for several seeds (interleaved). Longer than the notebook's training cells: ``--epochs`` (default 3) with a time
budget of ``--seconds`` (default 240) per run, so that a busy machine still finishes the epochs. Prints each run's
validation and test accuracy, the mean and standard deviation per variant, and the paired differences. Notebook 05
quotes this output.

Run: ``python benchmarks/bench_shuffle_ablation.py [--seeds 2] [--epochs 3] [--seconds 240] [--groups 4]``
(about 2 minutes a run on a quiet 2-core machine).
"""

from __future__ import annotations

import argparse
import statistics

import keras

from workshop_utils import data, settings, training
from workshop_utils.architectures.shufflenet import shufflenet_v1


def small_shufflenet(dataset: data.Dataset, groups: int, shuffle: bool) -> keras.Model:
    """Notebook 05's small ShuffleNet (widths stay multiples of 4 * groups)."""
    channels = {2: (96, 192, 384), 4: (96, 192, 384), 8: (128, 256, 512)}[groups]
    return shufflenet_v1(dataset.input_shape, dataset.num_classes, groups=groups, channels=channels,
                         stage_repeats=(2, 2, 2), stem_strides=1, stem_pool=False, shuffle=shuffle,
                         group_conv="split", bn_momentum=0.9, name="with_shuffle" if shuffle else "without_shuffle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=240.0)
    parser.add_argument("--groups", type=int, default=4, choices=(2, 4, 8))
    args = parser.parse_args()
    run = settings.setup(seed=0, profile="cpu").scaled(epochs=args.epochs, max_train_seconds=args.seconds)
    dataset = data.load_dataset()
    accuracy: dict[bool, list[float]] = {True: [], False: []}
    for seed in range(args.seeds):
        for shuffle in (True, False):
            settings.setup(seed=seed, profile="cpu", verbose=False)
            result = training.train_classifier(small_shufflenet(dataset, args.groups, shuffle), dataset, run,
                                               progress=False)
            validation = f"validation {result.val_accuracy:.1%}, " if hasattr(result, "val_accuracy") else ""
            accuracy[shuffle].append(result.test_accuracy)
            budget = " (budget-stopped)" if result.stopped_by_budget else ""
            print(f"seed {seed} {'with' if shuffle else 'without'} shuffle: {validation}test accuracy {result.test_accuracy:.1%} "
                  f"after {result.epochs_run} epochs in {result.train_seconds:.0f} s{budget}", flush=True)
    print(f"\ng={args.groups}, {args.seeds} seeds, {run.train_samples:,} training images, {args.epochs} epochs "
          f"(budget {args.seconds:.0f} s a run), {dataset.name}:")
    for shuffle in (True, False):
        values = accuracy[shuffle]
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"  {'with' if shuffle else 'without'} shuffle: mean test accuracy {statistics.mean(values):.1%} "
              f"(std {spread:.1%}; runs {', '.join(f'{v:.1%}' for v in values)})")
    differences = [a - b for a, b in zip(accuracy[True], accuracy[False])]
    print(f"  paired differences (with - without): {', '.join(f'{100 * d:+.1f}' for d in differences)} points; "
          f"mean {100 * statistics.mean(differences):+.1f}")


if __name__ == "__main__":
    main()
