"""The short-run recipe, one choice at a time: validation accuracy at a fixed step count.

Each row trains the same net from the same initial weights on the same batches in the same order (seed 0), for
the same number of optimizer steps, changing one choice of :class:`workshop_utils.recipe.Recipe` against the row
it names. The first row is how the workshop trained before the recipe (Adam at a constant 3e-3, no smoothing,
Keras' batch-norm momentum 0.99); the ``recipe`` row is ``Recipe()``, what every comparison now uses.

Run (about 6 minutes on 2 cores; use the machine-wide lock, nothing else running)::

    python benchmarks/bench_recipe.py                 # notebook 02's VGG-style net, 32x32, cpu profile
    python benchmarks/bench_recipe.py --model resnet20 --seeds 0 1
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse
import statistics

from workshop_utils import experiments, settings, training
from workshop_utils.recipe import Recipe

OLD = Recipe(warmup_fraction=0.0, end_fraction=1.0, label_smoothing=0.0, batchnorm_momentum=None)
ROWS: list[tuple[str, Recipe, int]] = [  # (label, recipe, batch size)
    ("constant lr, no smoothing, BN 0.99 (before)", OLD, 128),
    ("+ warm-up then cosine decay to 0", OLD.replace(warmup_fraction=0.15, end_fraction=0.0), 128),
    ("+ label smoothing 0.1", OLD.replace(warmup_fraction=0.15, end_fraction=0.0, label_smoothing=0.1), 128),
    ("+ BN momentum 0.9 = recipe", Recipe(), 128),
    ("recipe, peak lr 1e-3", Recipe(learning_rate=1e-3), 128),
    ("recipe, peak lr 6e-3", Recipe(learning_rate=6e-3), 128),
    ("recipe, no warm-up", Recipe(warmup_fraction=0.0), 128),
    ("recipe + flip", Recipe(augment="flip"), 128),
    ("recipe + flip + 2 px shift", Recipe(augment="flip+shift"), 128),
    ("recipe, batch 64 (2x the steps)", Recipe(), 64),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="vgg_style", choices=("vgg_style", "alexnet_style", "resnet20"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--profile", default="cpu", choices=settings.PROFILE_NAMES)
    args = parser.parse_args()
    run = settings.setup(seed=0, profile=args.profile)
    spec = experiments.get("alexnet_vs_vgg" if args.model != "resnet20" else "resnet20_vs_plain20")
    dataset = spec.dataset(run)
    epochs = spec.epochs_for(run)
    builder = spec.models[args.model if args.model != "resnet20" else "ResNet-20"]
    print(f"{args.model} on {dataset.name}, {epochs} epochs of {run.train_samples:,} images, seeds {args.seeds}")
    print(f"{'choice':46}{'batch':>6}{'steps':>7}{'train loss':>11}{'val. acc.':>10}{'spread':>8}{'s':>6}")
    for label, recipe, batch in ROWS:
        accuracies, losses, seconds, steps = [], [], [], 0
        for seed in args.seeds:
            settings.setup(seed=seed, profile=args.profile, verbose=False)
            model = builder(dataset.input_shape, dataset.num_classes)
            result = training.train_classifier(model, dataset, run.scaled(batch_size=batch), epochs=epochs,
                                               recipe=recipe, seed=seed, progress=False)
            accuracies.append(result.val_accuracy)
            losses.append(result.final_train_loss)
            seconds.append(result.train_seconds)
            steps = result.steps_run
        spread = max(accuracies) - min(accuracies)
        print(f"{label:46}{batch:>6}{steps:>7}{statistics.mean(losses):>11.3f}{statistics.mean(accuracies):>10.1%}"
              f"{spread:>8.1%}{statistics.mean(seconds):>6.0f}", flush=True)


if __name__ == "__main__":
    main()
