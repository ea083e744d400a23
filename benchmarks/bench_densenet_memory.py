"""DenseNet's training memory and speed against ResNet's, estimated and measured on this machine.

Prints, measured in the same run:
1. for DenseNet-121 and ResNet-50 at 224x224 (too slow for the notebook): activations kept per image estimated
   from shapes (naive, and with the shared storage of memory-efficient DenseNets), and the peak memory per extra
   image measured over real training steps at two batch sizes (slope of the peak, fresh subprocess each);
2. the same for notebook 08's two small 32x32 nets, plus their training images/s, interleaved and repeated (the
   baseline is the small ResNet measured in the same run; this machine runs in two speed modes 2x apart);
3. memory-efficient DenseNets (Pleiss et al. 2017) by gradient checkpointing as the backend offers it
   (``keras.remat``: ``tf.recompute_grad``, ``jax.checkpoint``, ``torch.utils.checkpoint``) against the plain build
   of the same network: the measured peak per training image of both, the small DenseNet at 32x32 and (without
   ``--quick``) DenseNet-121 at 224x224, and the small pair's training speed (the recomputation costs time).

Run: ``python benchmarks/bench_densenet_memory.py`` (about 10 minutes on 2 cores; ``--quick`` skips the 224x224
models; ``--checkpointing`` runs part 3 only).
"""

from __future__ import annotations

import _preamble  # noqa: F401 (first: quiets TensorFlow's start-up log, puts the repository on sys.path)

import statistics
import sys
import time

import keras
import numpy as np

from workshop_utils import flops
from workshop_utils.architectures.densenet import densenet, densenet121
from workshop_utils.architectures.resnet import resnet
from workshop_utils.memory import activation_memory, format_bytes, training_memory_per_image

REPEATS = 5
STEPS_PER_REPEAT = 4
BATCH = 128


def small_densenet(memory_efficient: bool = False) -> keras.Model:
    """Notebook 08's small DenseNet-BC: blocks of 2, 4, 6 layers, k = 16, the CIFAR stem (180,426 parameters)."""
    return densenet((2, 4, 6), growth_rate=16, stem="cifar", memory_efficient=memory_efficient)


def memory_rows(models: dict[str, keras.Model], batch_sizes: tuple[int, int]) -> None:
    print(f"{'model':16}{'params':>12}{'est. naive':>12}{'est. shared':>13}{'measured':>11}  (per image; batches "
          f"{batch_sizes})")
    for name, model in models.items():
        naive, shared = activation_memory(model), activation_memory(model, shared_concatenation=True)
        slope = training_memory_per_image(model, batch_sizes)
        print(f"{name:16}{model.count_params():>12,}{format_bytes(naive.bytes_per_image):>12}"
              f"{format_bytes(shared.bytes_per_image):>13}{format_bytes(slope.bytes_per_image):>11}"
              f"  ({slope.large.source}, {slope.large.backend})", flush=True)


def training_speed(models: dict[str, keras.Model]) -> dict[str, list[float]]:
    """Images/s of train_on_batch, interleaved across models, REPEATS times."""
    rng = np.random.default_rng(0)
    images = rng.random((BATCH, 32, 32, 3), dtype=np.float32)
    labels = rng.integers(0, 10, BATCH)
    for model in models.values():
        model.compile("adam", "sparse_categorical_crossentropy")
        model.train_on_batch(images, labels)  # trace
    speeds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(REPEATS):
        for name, model in models.items():
            start = time.perf_counter()
            for _ in range(STEPS_PER_REPEAT):
                model.train_on_batch(images, labels)
            speeds[name].append(BATCH * STEPS_PER_REPEAT / (time.perf_counter() - start))
    return speeds


def checkpointing_rows(quick: bool) -> None:
    """Part 3: the plain build against the checkpointed one (same parameters), peaks measured at two batches."""
    pairs = [("small DenseNet", small_densenet, (128, 512))]
    if not quick:
        pairs.append(("DenseNet-121", densenet121, (2, 8)))
    print(f"{'model':16}{'build':>14}{'params':>11}{'peak, small batch':>19}{'peak, large batch':>19}"
          f"{'per image':>11}")
    for name, build, batch_sizes in pairs:
        for label, efficient in (("plain", False), ("checkpointed", True)):
            model = build(memory_efficient=efficient)
            slope = training_memory_per_image(model, batch_sizes)
            print(f"{name:16}{label:>14}{model.count_params():>11,}"
                  f"{format_bytes(slope.small.peak_bytes):>12} @{slope.small.batch_size:<4}"
                  f"{format_bytes(slope.large.peak_bytes):>12} @{slope.large.batch_size:<4}"
                  f"{format_bytes(slope.bytes_per_image):>11}  ({slope.large.source})", flush=True)
    speeds = training_speed({"plain": small_densenet(), "checkpointed": small_densenet(memory_efficient=True)})
    for label, values in speeds.items():
        print(f"small DenseNet, {label:13} median {statistics.median(values):,.0f} images/s "
              f"(best {max(values):,.0f}; batch {BATCH}, 32x32)")


def main() -> None:
    print(f"Keras {keras.__version__} on {keras.backend.backend()}")
    if "--checkpointing" in sys.argv:
        print("\n3. Memory-efficient DenseNet: gradient checkpointing (keras.remat) against the plain build")
        checkpointing_rows("--quick" in sys.argv)
        return
    if "--quick" not in sys.argv:
        print("\n1. ImageNet models at 224x224")
        memory_rows({"DenseNet-121": densenet121(), "ResNet-50": resnet(50)}, (2, 8))
    small = {"small DenseNet": small_densenet(), "small ResNet": resnet(14, stem="cifar")}
    print("\n2. Notebook 08's 32x32 nets")
    memory_rows(small, (32, 128))
    costs = {name: flops.profile(model) for name, model in small.items()}
    speeds = training_speed(small)
    baseline = statistics.median(speeds["small ResNet"])
    print(f"{'model':16}{'MACs':>9}{'median images/s':>17}{'best':>8}{'vs small ResNet':>17}")
    for name, values in speeds.items():
        median = statistics.median(values)
        print(f"{name:16}{costs[name].macs / 1e6:>8.1f}M{median:>17,.0f}{max(values):>8,.0f}"
              f"{median / baseline:>16.2f}x")
    print("\n3. Memory-efficient DenseNet: gradient checkpointing (keras.remat) against the plain build")
    checkpointing_rows("--quick" in sys.argv)


if __name__ == "__main__":
    main()
