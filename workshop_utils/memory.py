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

:func:`measure_training_peak` runs training steps in a fresh subprocess (:mod:`workshop_utils._memory_worker`; same
Python, same Keras backend) and reads the peak memory: the backend's device statistics on a GPU, else the process'
resident-set high-water mark.
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

from workshop_utils import _memory_worker

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

        activation_memory(densenet((2, 4, 6), growth_rate=16, stem="cifar"), batch_size=128).summary()
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


def _layer_modules(model: Any) -> list[str]:
    """The modules, outside Keras, that define the classes of ``model``'s layers (the subprocess imports them)."""
    modules = {type(layer).__module__ for layer in model.layers}
    return sorted(m for m in modules if m != "__main__" and m.split(".")[0] not in ("keras", "tf_keras"))


class MemoryMeasurementError(RuntimeError):
    """The measuring subprocess failed or this platform has no way to read peak memory."""


def measure_training_peak(model: Any, batch_size: int, steps: int = 2, timeout: float = 600) -> PeakMemory:
    """Run ``steps`` training steps of a copy of ``model`` (fresh weights, same architecture) in a new process,
    and read its peak memory.

    A subprocess (:mod:`workshop_utils._memory_worker`, run with ``python -m``), because a process' high-water mark
    only rises: measured here, it would include everything this notebook has done before. The copy is rebuilt from
    ``model.to_json()``, so the model must use Keras' own layers or registered serializable ones (their modules are
    imported in the subprocess first, e.g. :class:`workshop_utils.architectures.densenet.RecomputedBottleneck`).
    Random images, Adam, sparse categorical cross-entropy.

    Args:
        model: a Keras classifier with a fixed input shape.
        batch_size: images per training step.
        steps: training steps (the first one also traces/compiles).
        timeout: seconds before giving up.

    Raises:
        MemoryMeasurementError: with the subprocess' last lines of output, if it failed.

    Example::

        peak = measure_training_peak(densenet((2, 4, 6), growth_rate=16, stem="cifar"), batch_size=64)
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
                [sys.executable, "-m", _memory_worker.__name__, config_path, str(batch_size), str(steps),
                 *_layer_modules(model)],
                capture_output=True, text=True, timeout=timeout, env=env,
            )
        except subprocess.TimeoutExpired as error:
            raise MemoryMeasurementError(f"the measurement did not finish in {timeout:.0f} s; try a smaller "
                                         "model or batch.") from error
    line = next((out for out in completed.stdout.splitlines() if out.startswith(_memory_worker.RESULT_PREFIX)), None)
    if completed.returncode != 0 or line is None:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-8:])
        raise MemoryMeasurementError(f"the measuring process failed (exit code {completed.returncode}):\n{tail}")
    result = json.loads(line[len(_memory_worker.RESULT_PREFIX):])
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

        training_memory_per_image(densenet((2, 4, 6), growth_rate=16, stem="cifar")).bytes_per_image
    """
    small, large = sorted(batch_sizes)
    if small == large:
        raise ValueError(f"batch_sizes must be two different sizes, got {batch_sizes}.")
    return MeasuredSlope(measure_training_peak(model, small, steps, timeout),
                         measure_training_peak(model, large, steps, timeout))
