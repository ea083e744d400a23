"""The measuring process behind :func:`workshop_utils.memory.measure_training_peak`: train a model, read its peak.

It runs in a fresh process because a process' memory high-water mark only rises: measured inside a notebook, it
would include everything the notebook did before. :func:`workshop_utils.memory.measure_training_peak` starts it
with the same Python and Keras backend::

    python -m workshop_utils._memory_worker MODEL_JSON BATCH_SIZE STEPS [MODULE ...]

``MODEL_JSON`` is a file holding ``model.to_json()``; each ``MODULE`` is imported first, so that the layer classes
it registers (e.g. ``workshop_utils.architectures.densenet``) can be deserialized. The process rebuilds the model
(fresh weights), compiles it with Adam and sparse categorical cross-entropy, runs one single-image step (which
builds the optimizer and traces the step: not part of the batch's peak), then ``STEPS`` steps on a batch of random
images, and prints one line, :data:`RESULT_PREFIX` followed by a JSON object:

* ``before``, ``peak`` (bytes) and ``source``: the backend's device statistics on a GPU; else the process' resident
  set high-water mark (Linux ``VmHWM``, reset just before the timed steps; elsewhere ``ru_maxrss``);
* ``backend``: the Keras backend that ran;
* or ``error``, when this platform has no way to read peak memory.

Only the standard library is imported at module level: :mod:`workshop_utils.memory` imports this module for
:data:`RESULT_PREFIX` without loading Keras.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

#: The line of the worker's output that carries its result (the rest of the line is JSON).
RESULT_PREFIX = "MEMORY_RESULT "


def reset_host_peak() -> bool:
    """Reset this process' resident-set high-water mark (Linux >= 4.0); False where that is not possible.

    ``ru_maxrss`` survives fork + exec, so a child of a large process (pytest, a kernel) starts with its parent's
    high-water mark. Writing ``5`` to ``/proc/self/clear_refs`` resets ``VmHWM``, which then reads this process.
    Example: ``reset_host_peak()  # -> True on Linux``
    """
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def host_peak() -> int | None:
    """This process' resident-set high-water mark in bytes (``VmHWM``, else ``ru_maxrss``); None on Windows.

    Example: ``host_peak()  # -> 712_441_856``
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS: bytes; Linux: kB


def device_peak() -> tuple[int, str] | None:
    """The accelerator's peak bytes in use and where that figure comes from; None on a CPU or when unreadable.

    Example: ``device_peak()  # -> (1_234_567_890, "JAX gpu peak_bytes_in_use") on a GPU``
    """
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            if tf.config.list_physical_devices("GPU"):
                return tf.config.experimental.get_memory_info("GPU:0")["peak"], "TensorFlow GPU:0 peak"
        elif backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "cpu":
                return device.memory_stats()["peak_bytes_in_use"], f"JAX {device.platform} peak_bytes_in_use"
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return torch.cuda.max_memory_allocated(), "torch.cuda.max_memory_allocated"
    except Exception:  # a backend without memory statistics on this device: fall back to the host figure
        return None
    return None


def measure(config_path: str, batch_size: int, steps: int, modules: Sequence[str] = ()) -> dict[str, Any]:
    """Rebuild the model saved at ``config_path``, train ``steps`` steps of ``batch_size`` images, return the result.

    Example: ``measure("/tmp/model.json", 64, 2)  # -> {"before": ..., "peak": ..., "source": ..., "backend": ...}``
    """
    import keras
    import numpy as np

    for module in modules:  # where the model's own layer classes live (they register themselves on import)
        importlib.import_module(module)
    with open(config_path) as handle:
        model = keras.models.model_from_json(handle.read())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    classes = int(model.outputs[0].shape[-1])
    rng = np.random.default_rng(0)
    images = rng.random((batch_size, *shape), dtype=np.float32)
    labels = rng.integers(0, classes, size=batch_size)
    model.train_on_batch(images[:1], labels[:1])  # build the optimizer and trace first: not part of the batch's peak
    device_before = device_peak()
    reset_host_peak()
    before = host_peak()
    for _ in range(steps):
        model.train_on_batch(images, labels)
    device_after = device_peak()
    result: dict[str, Any]
    if device_after is not None:
        result = {"before": device_before[0] if device_before else 0, "peak": device_after[0],
                  "source": device_after[1]}
    elif before is not None:
        result = {"before": before, "peak": host_peak(), "source": "process RSS high-water mark"}
    else:
        result = {"error": "no way to read peak memory here (no resource module, no GPU statistics)"}
    result["backend"] = keras.backend.backend()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m workshop_utils._memory_worker MODEL_JSON BATCH_SIZE STEPS [MODULE ...]``."""
    parser = argparse.ArgumentParser(prog="python -m workshop_utils._memory_worker",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("config_path", help="a file holding model.to_json()")
    parser.add_argument("batch_size", type=int, help="images per training step")
    parser.add_argument("steps", type=int, help="training steps measured")
    parser.add_argument("modules", nargs="*", help="modules to import first (the model's own layer classes)")
    args = parser.parse_args(argv)
    result = measure(args.config_path, args.batch_size, args.steps, args.modules)
    print(RESULT_PREFIX + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
