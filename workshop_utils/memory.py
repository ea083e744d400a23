"""Training memory: activation memory estimated from a model's shapes, and peak memory measured during a step.

Why a network needs memory to *train*: the backward pass computes each layer's gradients from tensors saved in
the forward pass. :func:`activation_memory` walks a functional Keras model and counts, once each, the tensors that
the layers' gradients need (see :data:`KEEPS_INPUT` / :data:`KEEPS_OUTPUT`):

* a convolution, dense layer or batch norm keeps its **input** (dL/dW needs it);
* a ReLU keeps its **output** (the gradient passes where the output is positive), so the BN output feeding a ReLU
  is not kept;
* concatenation, addition, average pooling, padding and reshapes keep **nothing**: their gradients only route or
  average the incoming gradient.

In a DenseNet every concatenation output is read by a batch norm, so every layer keeps a fresh copy of all the
block's feature maps so far: memory grows with the square of the block length. ``shared_concatenation=True``
estimates the memory-efficient implementation of Pleiss et al. 2017 (arXiv:1707.06990): the running concatenation
lives in one shared buffer per block, and the BN-ReLU outputs of a concatenation are recomputed in the backward
pass instead of being kept.

:func:`measure_training_peak` runs training steps in a fresh subprocess (same Python, same Keras backend) and reads
the peak memory: the backend's device statistics on a GPU, else the process' resident-set high-water mark.
:func:`training_memory_per_image` measures two batch sizes and takes the slope, so that everything that does not
grow with the batch (libraries, weights, optimizer state, compiled graph) cancels out.

Example::

    from workshop_utils.memory import activation_memory, training_memory_per_image
    estimate = activation_memory(model, batch_size=64)    # from shapes, instant
    measured = training_memory_per_image(model)           # two subprocesses, ~10-30 s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Layer classes whose gradient needs their input tensor.
KEEPS_INPUT: frozenset[str] = frozenset({
    "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Dense", "EinsumDense",
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "MaxPooling2D", "MaxPooling1D",
    "GlobalMaxPooling2D", "Multiply",
})
#: Layer classes whose gradient needs their output tensor (``Activation`` counts when it is a ReLU-like function).
KEEPS_OUTPUT: frozenset[str] = frozenset({"ReLU", "Activation", "Softmax", "Dropout"})
#: Layer classes that keep nothing: their gradient routes, sums or spreads the incoming gradient.
KEEPS_NOTHING: frozenset[str] = frozenset({
    "InputLayer", "Concatenate", "Add", "Subtract", "AveragePooling2D", "AveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling1D", "ZeroPadding2D", "Cropping2D", "Flatten", "Reshape",
    "Permute", "Identity",
})
_FLOAT_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}


@dataclass(frozen=True)
class KeptTensor:
    """One tensor saved for the backward pass.

    Attributes:
        layer: the layer that produced it.
        kind: that layer's class name (``Concatenate``, ``ReLU``, ...).
        shape: its shape without the batch axis.
        elements: numbers per image.
        needed_by: the layers whose gradient needs it.

    Example::

        KeptTensor("conv2_block1_concat", "Concatenate", (56, 56, 96), 301056, ("conv2_block2_1x1_bn",))
    """

    layer: str
    kind: str
    shape: tuple[int, ...]
    elements: int
    needed_by: tuple[str, ...]


@dataclass
class ActivationMemory:
    """The activation memory of one training step of a model, estimated from shapes.

    Attributes:
        model_name: the model's name.
        batch_size: images per step.
        bytes_per_element: 4 for float32.
        parameters: the model's parameter count.
        tensors: every tensor kept for the backward pass, in graph order.
        shared_concatenation: whether the estimate assumes the memory-efficient DenseNet implementation.

    Example::

        print(activation_memory(model, batch_size=64))   # a short summary with the totals
    """

    model_name: str
    batch_size: int
    bytes_per_element: int
    parameters: int
    tensors: list[KeptTensor] = field(default_factory=list)
    shared_concatenation: bool = False

    @property
    def elements_per_image(self) -> int:
        """Numbers kept per image."""
        return sum(t.elements for t in self.tensors)

    @property
    def bytes_per_image(self) -> int:
        """Bytes kept per image."""
        return self.elements_per_image * self.bytes_per_element

    @property
    def total_bytes(self) -> int:
        """Bytes kept for the whole batch."""
        return self.bytes_per_image * self.batch_size

    @property
    def weight_bytes(self) -> int:
        """Bytes of the weights themselves (training adds a gradient and, with Adam, two moments each)."""
        return self.parameters * self.bytes_per_element

    def bytes_by_kind(self, per_image: bool = True) -> dict[str, int]:
        """Kept bytes grouped by the class of the layer that produced them, largest first.

        Example::

            estimate.bytes_by_kind()   # {'Concatenate': ..., 'ReLU': ..., 'Conv2D': ...}
        """
        totals: dict[str, int] = {}
        for tensor in self.tensors:
            totals[tensor.kind] = totals.get(tensor.kind, 0) + tensor.elements * self.bytes_per_element
        scale = 1 if per_image else self.batch_size
        return {k: v * scale for k, v in sorted(totals.items(), key=lambda item: -item[1])}

    def bytes_matching(self, prefix: str, per_image: bool = True) -> int:
        """Kept bytes of the tensors whose producing layer's name starts with ``prefix`` (e.g. one block).

        Example::

            estimate.bytes_matching("conv2_")   # the first dense block
        """
        total = sum(t.elements for t in self.tensors if t.layer.startswith(prefix)) * self.bytes_per_element
        return total * (1 if per_image else self.batch_size)

    def summary(self) -> str:
        """One line: kept tensors, bytes per image and for the batch, and the weights for comparison.

        Example::

            print(estimate.summary())
        """
        mode = ", shared concatenation storage" if self.shared_concatenation else ""
        return (f"{self.model_name}: {len(self.tensors)} tensors kept for the backward pass{mode}: "
                f"{format_bytes(self.bytes_per_image)} per image, {format_bytes(self.total_bytes)} for a batch of "
                f"{self.batch_size}; weights {format_bytes(self.weight_bytes)}")

    def __str__(self) -> str:
        return self.summary()


def format_bytes(n: float) -> str:
    """A byte count for people: ``format_bytes(3_500_000) == '3.5 MB'`` (powers of 1000).

    Example::

        format_bytes(1_048_576)   # '1.0 MB'
    """
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def _keeps(layer: Any) -> str:
    """'input', 'output' or 'nothing': what this layer's gradient needs."""
    kind = type(layer).__name__
    if kind in KEEPS_NOTHING:
        return "nothing"
    if kind in KEEPS_OUTPUT:
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", "")
        if kind == "Activation" and name == "linear":
            return "nothing"
        return "output"
    if kind in KEEPS_INPUT:
        return "input"
    return "input"  # unknown layers: assume the gradient needs the input (the conservative choice)


def _elements(shape: Sequence[Any]) -> int:
    total = 1
    for dim in shape[1:]:
        if dim is None:
            raise ValueError(f"a tensor has an unknown dimension {tuple(shape)}; build the model with a fixed "
                             "input shape, e.g. keras.Input((32, 32, 3)).")
        total *= int(dim)
    return total


def activation_memory(
    model: Any, batch_size: int = 1, shared_concatenation: bool = False, bytes_per_element: int | None = None
) -> ActivationMemory:
    """Estimate the activations one training step keeps for the backward pass, from the model's shapes.

    Every tensor counts once, however many layers need it (a ReLU output read by a conv is one tensor).

    Args:
        model: a functional (or Sequential) Keras model with a fixed input shape.
        batch_size: images per step (the estimate is linear in it).
        shared_concatenation: estimate the memory-efficient DenseNet (Pleiss et al. 2017): a concatenation whose
            output only feeds further concatenations and batch norms shares one buffer per block (only the
            block's last concatenation counts), and the BN-ReLU outputs computed from a concatenation are
            recomputed in the backward pass (not kept).
        bytes_per_element: defaults to the size of the model's compute dtype (4 for float32).

    Example::

        activation_memory(small_densenet(), batch_size=128).summary()
    """
    import keras

    from workshop_utils import _keras_internals as internals

    graph = internals.sequential_graph(model) if isinstance(model, keras.Sequential) else model
    if not isinstance(graph, internals.functional_class()):
        raise TypeError(f"activation_memory needs a functional or built Sequential keras.Model, got "
                        f"{type(model).__name__}; subclassed models have no graph to read.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if bytes_per_element is None:
        bytes_per_element = _FLOAT_BYTES.get(str(getattr(model, "compute_dtype", "float32")), 4)

    nodes = list(internals.graph_nodes(graph))
    producer: dict[int, Any] = {}
    consumers: dict[int, list[Any]] = {}
    tensors: dict[int, Any] = {}
    for node in nodes:
        for tensor in node.output_tensors:
            producer[id(tensor)] = node.operation
            tensors[id(tensor)] = tensor
        for tensor in node.input_tensors:
            consumers.setdefault(id(tensor), []).append(node.operation)
            tensors[id(tensor)] = tensor
            producer.setdefault(id(tensor), internals.source_layer(tensor))  # the InputLayer of graph inputs

    needed_by: dict[int, list[str]] = {}
    order: list[int] = []

    def keep(tensor: Any, by: str) -> None:
        key = id(tensor)
        if key not in needed_by:
            needed_by[key] = []
            order.append(key)
        needed_by[key].append(by)

    for node in nodes:
        layer = node.operation
        what = _keeps(layer)
        if what == "input":
            for tensor in node.input_tensors:
                keep(tensor, layer.name)
        elif what == "output":
            for tensor in node.output_tensors:
                keep(tensor, layer.name)

    def kind_of(key: int) -> str:
        layer = producer.get(key)
        return type(layer).__name__ if layer is not None else "InputLayer"

    if shared_concatenation:
        order = [key for key in order if not _shared_away(key, producer, consumers, tensors, kind_of)]

    kept = []
    for key in order:
        layer = producer.get(key)
        elements = _elements(tensors[key].shape)  # raises a clear error for unknown dimensions
        shape = tuple(int(d) for d in tensors[key].shape[1:])
        kept.append(KeptTensor(layer.name if layer is not None else "input", kind_of(key), shape, elements,
                               tuple(needed_by[key])))
    return ActivationMemory(model.name, batch_size, bytes_per_element, int(model.count_params()), kept,
                            shared_concatenation)


def _shared_away(key: int, producer: dict[int, Any], consumers: dict[int, list[Any]], tensors: dict[int, Any],
                 kind_of: Any) -> bool:
    """Under shared storage: is this kept tensor part of a shared buffer or recomputed (so it costs nothing)?"""
    kind = kind_of(key)
    readers = consumers.get(key, [])
    if kind == "Concatenate":
        # Part of the running concatenation: a later concatenation in the same block extends it in place.
        return any(type(reader).__name__ == "Concatenate" for reader in readers)
    if kind in ("ReLU", "Activation"):
        # BN-ReLU of a concatenation: recomputed from the shared buffer in the backward pass.
        from workshop_utils._keras_internals import inbound_nodes

        relu = producer.get(key)
        for node in inbound_nodes(relu):
            for source in node.input_tensors:
                bn = producer.get(id(source))
                if type(bn).__name__ != "BatchNormalization":
                    continue
                for bn_node in inbound_nodes(bn):
                    if any(kind_of(id(t)) == "Concatenate" for t in bn_node.input_tensors):
                        return True
    return False


# --------------------------------------------------------------------------------------------------------------
# Measured: peak memory of real training steps, in a fresh process


@dataclass(frozen=True)
class PeakMemory:
    """Peak memory of a training step, measured in a subprocess.

    Attributes:
        batch_size: images per step.
        before_bytes: the peak after building and compiling the model and making the batch, before training.
        peak_bytes: the peak after the training steps.
        source: what was read (``"process RSS high-water mark"`` or the backend's device statistics).
        backend: the Keras backend the subprocess ran.

    Example::

        PeakMemory(64, 700_000_000, 900_000_000, "process RSS high-water mark", "tensorflow").training_bytes
    """

    batch_size: int
    before_bytes: int
    peak_bytes: int
    source: str
    backend: str

    @property
    def training_bytes(self) -> int:
        """What the training steps added on top of the built model (tracing and optimizer state included)."""
        return self.peak_bytes - self.before_bytes


_MEASURE_SCRIPT = r"""
import importlib, json, os, sys
config_path, batch_size, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
import numpy as np
import keras
for module in sys.argv[4:]:   # where the model's own layer classes live (they register themselves on import)
    importlib.import_module(module)

def reset_host_peak():
    # ru_maxrss survives fork + exec, so a child of a large process (pytest, a kernel) starts with its parent's
    # high-water mark. Linux can reset the mark (clear_refs "5", kernel >= 4.0); VmHWM then reads this process.
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False

def host_peak():
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

def device_peak():
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
    except Exception:
        return None
    return None

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
if device_after is not None:
    result = {"before": device_before[0] if device_before else 0, "peak": device_after[0], "source": device_after[1]}
elif before is not None:
    result = {"before": before, "peak": host_peak(), "source": "process RSS high-water mark"}
else:
    result = {"error": "no way to read peak memory here (no resource module, no GPU statistics)"}
result["backend"] = keras.backend.backend()
print("MEMORY_RESULT " + json.dumps(result))
"""


def _layer_modules(model: Any) -> list[str]:
    """The modules, outside Keras, that define the classes of ``model``'s layers (the subprocess imports them)."""
    modules = {type(layer).__module__ for layer in model.layers}
    return sorted(m for m in modules if m != "__main__" and m.split(".")[0] not in ("keras", "tf_keras"))


class MemoryMeasurementError(RuntimeError):
    """The measuring subprocess failed or this platform has no way to read peak memory."""


def measure_training_peak(model: Any, batch_size: int, steps: int = 2, timeout: float = 600) -> PeakMemory:
    """Run ``steps`` training steps of a copy of ``model`` (fresh weights, same architecture) in a new process,
    and read its peak memory.

    A subprocess, because a process' high-water mark only rises: measured here, it would include everything this
    notebook has done before. The copy is rebuilt from ``model.to_json()``, so the model must use Keras' own
    layers or registered serializable ones (their modules are imported in the subprocess first, e.g.
    :class:`workshop_utils.architectures.densenet.RecomputedBottleneck`). Random images, Adam, sparse categorical
    cross-entropy.

    Args:
        model: a Keras classifier with a fixed input shape.
        batch_size: images per training step.
        steps: training steps (the first one also traces/compiles).
        timeout: seconds before giving up.

    Raises:
        MemoryMeasurementError: with the subprocess' last lines of output, if it failed.

    Example::

        peak = measure_training_peak(small_densenet(), batch_size=64)
        print(peak.training_bytes)
    """
    import keras

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}.")
    env = dict(os.environ, KERAS_BACKEND=keras.backend.backend(), TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryDirectory() as folder:
        config_path = os.path.join(folder, "model.json")
        with open(config_path, "w") as handle:
            handle.write(model.to_json())
        try:
            completed = subprocess.run(
                [sys.executable, "-c", _MEASURE_SCRIPT, config_path, str(batch_size), str(steps),
                 *_layer_modules(model)],
                capture_output=True, text=True, timeout=timeout, env=env,
            )
        except subprocess.TimeoutExpired as error:
            raise MemoryMeasurementError(f"the measurement did not finish in {timeout:.0f} s; try a smaller "
                                         "model or batch.") from error
    line = next((l for l in completed.stdout.splitlines() if l.startswith("MEMORY_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-8:])
        raise MemoryMeasurementError(f"the measuring process failed (exit code {completed.returncode}):\n{tail}")
    result = json.loads(line[len("MEMORY_RESULT "):])
    if "error" in result:
        raise MemoryMeasurementError(result["error"])
    return PeakMemory(batch_size, int(result["before"]), int(result["peak"]), result["source"], result["backend"])


@dataclass(frozen=True)
class MeasuredSlope:
    """Training memory per image, measured as the slope of the peak between two batch sizes.

    Attributes:
        small: the measurement at the smaller batch.
        large: the measurement at the larger batch.

    Example::

        slope = training_memory_per_image(model); print(format_bytes(slope.bytes_per_image))
    """

    small: PeakMemory
    large: PeakMemory

    @property
    def bytes_per_image(self) -> float:
        """(peak at the large batch - peak at the small batch) / (difference in batch size)."""
        return (self.large.peak_bytes - self.small.peak_bytes) / (self.large.batch_size - self.small.batch_size)


def training_memory_per_image(model: Any, batch_sizes: tuple[int, int] = (32, 256), steps: int = 2,
                              timeout: float = 600) -> MeasuredSlope:
    """Measure the peak at two batch sizes (two subprocesses) and return the slope: bytes per extra image.

    Libraries, weights, optimizer state and the compiled step do not depend on the batch size, so they cancel;
    what remains is what each image costs during training (mostly the kept activations and their gradients).

    Example::

        training_memory_per_image(small_densenet()).bytes_per_image
    """
    small, large = sorted(batch_sizes)
    if small == large:
        raise ValueError(f"batch_sizes must be two different sizes, got {batch_sizes}.")
    return MeasuredSlope(measure_training_peak(model, small, steps, timeout),
                         measure_training_peak(model, large, steps, timeout))
