"""Train every Identity Mappings variant (ResNet-20 for 32x32) longer than notebook 07's slot allows; print the table.

Notebook 07 trains two variants (original, constant scaling) for one training cell each, on 16x16 images. This
script trains all ten of :data:`workshop_utils.architectures.resnet.VARIANTS` with the same seed, data (16x16 by
default, as in the notebook; ``--size 32`` for the full images) and optimiser (Adam, 1e-3), for ``--seconds`` each
(default 300: about 50 minutes in all on a 2-core laptop), and prints the training loss, our validation and test
error beside the paper's CIFAR-10 test error (quoted, He et al. 2016, tables 1 and 2, ResNet-110). A workshop-size net on shapes10 for minutes is not the paper's ResNet-110 on CIFAR-10 for 64k
iterations: read the direction, not the digits.

Run (inside .venv, under the machine-wide lock when others measure)::

    flock /tmp/workshop-cpu.lock .venv/bin/python benchmarks/bench_resnet_variants.py --seconds 300
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import keras

from workshop_utils import data, settings, training
from workshop_utils.architectures.resnet import VARIANTS, variant_resnet

#: Quoted: Identity Mappings (He et al. 2016), CIFAR-10 test error %, ResNet-110 (table 1: shortcuts; table 2: order).
PAPER_ERROR = {
    "original": "6.61", "constant_scaling": "12.35 (0.5/0.5)", "exclusive_gating": "8.70 (b_g=-6)",
    "shortcut_only_gating": "6.91 (b_g=-6)", "conv_shortcut": "12.22", "dropout_shortcut": "fail",
    "bn_after_addition": "8.17", "relu_before_addition": "7.84", "relu_only_preactivation": "6.71",
    "full_preactivation": "6.37",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training budget per variant")
    parser.add_argument("--epochs", type=int, default=30, help="at most this many epochs per variant")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--size", type=int, default=16, choices=(8, 16, 32), help="image size (32: the full images)")
    args = parser.parse_args()

    run = settings.setup(seed=0)
    run = replace(run, max_train_seconds=args.seconds, epochs=args.epochs)
    dataset = data.load_dataset().downsampled(32 // args.size)
    print(f"{dataset}; {run.describe()}")
    print(f"{'variant':26}{'params':>9}{'epochs':>8}{'train loss':>11}{'val. error':>11}{'test error':>11}"
          "  paper (CIFAR-10, ResNet-110)")
    for variant in args.variants:
        keras.utils.set_random_seed(0)
        model = variant_resnet(variant, dataset.input_shape, dataset.num_classes)
        result = training.train_classifier(model, dataset, run, progress=False)
        budget = "*" if result.stopped_by_budget else " "
        print(f"{variant:26}{result.params:>9,}{result.epochs_run:>7}{budget}{result.history['loss'][-1]:>11.3f}"
              f"{1 - result.val_accuracy:>11.1%}"
              f"{1 - result.test_accuracy:>11.1%}  {PAPER_ERROR[variant]}", flush=True)
    print("* stopped by the time budget")


if __name__ == "__main__":
    main()
