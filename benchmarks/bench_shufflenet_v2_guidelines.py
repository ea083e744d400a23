"""ShuffleNet V2's four guidelines (Ma et al. 2018, arXiv:1807.11164, section 2), timed on this machine.

For each guideline, small networks that differ only in that design choice at (nearly) equal multiply-adds
(:func:`workshop_utils.architectures.shufflenet.guideline_models`), timed for inference (``predict_on_batch``,
median of repeats, best of interleaved rounds). G1 also prints the memory accesses the paper's argument counts
for a 1x1 conv, ``h*w*(c1 + c2) + c1*c2`` (values read and written plus weights), per block.

Prints a table: guideline, variant, MACs, ms per batch, ratio to the recommended variant, and whether this machine
agrees with the guideline (the recommended variant is the fastest, within 5%). Notebook 05 quotes this output.

Run: ``python benchmarks/bench_shufflenet_v2_guidelines.py`` (a few minutes on 2 cores). Options: ``--size 28``
(feature map side, default 28), ``--batch 16``, ``--rounds 5``.
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import argparse

import keras

from workshop_utils.architectures.shufflenet import V2_GUIDELINES, guideline_models
from workshop_utils.flops import profile
from workshop_utils.latency import measure_latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--channels", type=int, default=128)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    print(f"Keras {keras.__version__} on {keras.config.backend()}; {args.size}x{args.size} maps, base width "
          f"{args.channels}, {args.blocks} blocks, batch {args.batch}, median of {args.repeats} calls, best of "
          f"{args.rounds} interleaved rounds")
    print(f"{'':4}{'variant':34}{'MACs/image':>13}{'mem. access':>13}{'ms/batch':>10}{'vs first':>9}")
    for guideline, rule in V2_GUIDELINES.items():
        models = guideline_models(guideline, size=args.size, channels=args.channels, blocks=args.blocks)
        best = {name: float("inf") for name in models}
        for _ in range(args.rounds):
            for name, model in models.items():
                latency = measure_latency(model, batch_size=args.batch, repeats=args.repeats)
                best[name] = min(best[name], latency.ms_per_batch)
        first = next(iter(models))
        for name, model in models.items():
            access = ""
            if guideline == 1:  # per block: two 1x1 convs c1 -> c2 -> c1
                c1, c2 = model.input_shape[-1], model.get_layer("block1_a").filters
                access = f"{2 * (args.size**2 * (c1 + c2) + c1 * c2):,}"
            print(f"G{guideline:<3}{name:34}{profile(model).macs:>13,}{access:>13}{best[name]:>10.2f}"
                  f"{best[name] / best[first]:>8.2f}x")
        agrees = min(best.values()) >= 0.95 * best[first]
        print(f"    -> G{guideline} {rule}: {'agrees' if agrees else 'NOT seen'} on this machine")


if __name__ == "__main__":
    main()
