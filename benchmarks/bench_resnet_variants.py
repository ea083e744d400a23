"""Train every Identity Mappings variant (ResNet-20) for equal steps over several seeds; print the table.

Notebook 07 trains two variants live (original, constant scaling: the ``identity_vs_scaling`` comparison). This
script trains all ten of :data:`workshop_utils.architectures.identity_mappings.VARIANTS` by the same protocol: the
same data (16x16 by default, as in the notebook; ``--size 32`` for the full images), the same number of optimizer steps
(``--epochs`` of full batches), the same batch order per seed, the workshop's short-run recipe. It prints the mean
training loss, validation and test error over ``--seeds`` beside the paper's CIFAR-10 test error (quoted, He et al.
2016, tables 1 and 2, ResNet-110). A workshop-size net on shapes10 for a few hundred steps is not the paper's
ResNet-110 on CIFAR-10 for 64k iterations: read the direction, not the digits. A run stopped by the safety cap is
void and marked.

Run (inside .venv, under the machine-wide lock; about 35 s per variant and seed on 2 cores)::

    flock /tmp/workshop-cpu.lock .venv/bin/python benchmarks/bench_resnet_variants.py --seeds 0 1 2
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse
import statistics

from workshop_utils import data, settings, training
from workshop_utils.architectures.identity_mappings import PAPER_ERROR, VARIANTS, variant_resnet
from workshop_utils.recipe import Recipe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6, help="epochs of full batches per variant (equal steps)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (weights and batch order)")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--size", type=int, default=16, choices=(8, 16, 32), help="image size (32: the full images)")
    parser.add_argument("--profile", default="cpu", choices=settings.PROFILE_NAMES)
    args = parser.parse_args()

    run = settings.setup(seed=0, profile=args.profile)
    dataset = data.load_dataset().downsampled(32 // args.size)
    print(f"{dataset}; {args.epochs} epochs of batch {run.batch_size}, seeds {args.seeds}; "
          f"recipe: {Recipe().describe()}")
    print(f"{'variant':26}{'params':>9}{'steps':>7}{'train loss':>11}{'val. error':>11}{'test error':>11}"
          "  paper (CIFAR-10, ResNet-110)")
    for variant in args.variants:
        results = []
        for seed in args.seeds:
            settings.setup(seed=seed, profile=args.profile, verbose=False)
            model = variant_resnet(variant, dataset.input_shape, dataset.num_classes)
            results.append(training.train_classifier(model, dataset, run, epochs=args.epochs, seed=seed,
                                                     progress=False))
        void = "*" if any(r.void for r in results) else " "
        print(f"{variant:26}{results[0].params:>9,}{results[0].steps_run:>6}{void}"
              f"{statistics.fmean(r.final_train_loss for r in results):>11.3f}"
              f"{statistics.fmean(1 - r.val_accuracy for r in results):>11.1%}"
              f"{statistics.fmean(1 - r.test_accuracy for r in results):>11.1%}  {PAPER_ERROR[variant]}", flush=True)
    print("* void: stopped by the safety cap before its steps")


if __name__ == "__main__":
    main()
