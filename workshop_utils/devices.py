"""Which device the active Keras backend computes on, named for a chart title or a benchmark's header.

A latency or throughput figure means little without the machine it was measured on: notebook 09's chart and the
scripts in ``benchmarks/`` print :func:`device_name` beside their numbers ("CPU (2 cores)", "NVIDIA H200").

* **JAX** computes on ``jax.devices()[0]`` (its default backend's first device): a GPU or TPU is named by its
  ``device_kind`` ("NVIDIA H200", "TPU v4").
* **TensorFlow** places ops on the first GPU when it sees one: named from
  ``tf.config.experimental.get_device_details`` ("NVIDIA H200"), else the CPU.
* **PyTorch**: CUDA first, then Apple's MPS, then the CPU (the order Keras' torch backend uses).
* A CPU is named by the cores this process may use (``os.sched_getaffinity``), not the machine's total: a
  container limited to 2 of 64 cores computes on 2.

Nothing heavy is imported until a function is called (TensorFlow only when it is the active backend).

Example::

    from workshop_utils.devices import device_name
    print(f"measured on {device_name()}")   # measured on CPU (2 cores)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["BACKENDS", "Device", "active_device", "cpu_cores", "device_name"]

#: The Keras backends this module can ask (``keras.config.backend()`` names).
BACKENDS: tuple[str, ...] = ("tensorflow", "jax", "torch", "numpy")


@dataclass(frozen=True)
class Device:
    """The device a backend computes on.

    Attributes:
        kind: ``"cpu"``, ``"gpu"`` or ``"tpu"``.
        name: the accelerator's name as its driver reports it (``"NVIDIA H200"``), or ``"CPU"``.
        backend: the Keras backend that was asked.
        cores: for a CPU, the cores this process may use; ``None`` for an accelerator.

    Example::

        str(Device("gpu", "NVIDIA H200", "jax"))   # 'NVIDIA H200'
    """

    kind: str
    name: str
    backend: str
    cores: int | None = None

    @property
    def is_accelerator(self) -> bool:
        """True for a GPU or TPU."""
        return self.kind != "cpu"

    def __str__(self) -> str:
        if self.kind == "cpu":
            cores = self.cores or 1
            return f"CPU ({cores} core{'s' if cores != 1 else ''})"
        return self.name


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one, else ``os.cpu_count()``).

    Example::

        cpu_cores()   # 2 on the CI machine
    """
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(len(os.sched_getaffinity(0)), 1)
        except OSError:  # some sandboxes refuse the call
            pass
    return os.cpu_count() or 1


def _cpu(backend: str) -> Device:
    return Device("cpu", "CPU", backend, cpu_cores())


def _describe_jax_device(device: Any, backend: str = "jax") -> Device:
    """A ``jax.Device`` (or anything with ``platform`` and ``device_kind``) as a :class:`Device`."""
    platform = str(getattr(device, "platform", "cpu")).lower()
    if platform == "cpu":
        return _cpu(backend)
    kind = "tpu" if platform == "tpu" else "gpu"  # "gpu" covers CUDA and ROCm (platform "gpu", "cuda" or "rocm")
    name = str(getattr(device, "device_kind", "") or "").strip() or platform.upper()
    return Device(kind, name, backend)


def _describe_tensorflow_gpu(details: dict[str, Any], backend: str = "tensorflow") -> Device:
    """``tf.config.experimental.get_device_details(gpu)`` as a :class:`Device`."""
    return Device("gpu", str(details.get("device_name") or "GPU").strip() or "GPU", backend)


def active_device(backend: str | None = None) -> Device:
    """The device ``backend`` (default: the active Keras backend) computes on.

    Args:
        backend: ``"tensorflow"``, ``"jax"``, ``"torch"`` or ``"numpy"``; ``None`` asks ``keras.config.backend()``.

    Raises:
        ValueError: for a backend name not in :data:`BACKENDS`.
        ModuleNotFoundError: when the named backend's package is not installed.

    Example::

        active_device().kind   # 'cpu' on a laptop, 'gpu' with a GPU the backend sees
    """
    if backend is None:
        import keras  # local: keep `import workshop_utils.devices` free of any backend import

        backend = keras.config.backend()
    if backend not in BACKENDS:
        raise ValueError(f"Unknown Keras backend {backend!r}: pass one of {', '.join(BACKENDS)}, or None for the "
                         f"active one (keras.config.backend()).")
    if backend == "jax":
        import jax

        return _describe_jax_device(jax.devices()[0])
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            try:
                details = tf.config.experimental.get_device_details(gpus[0])
            except Exception:  # noqa: BLE001 - a driver that cannot describe itself is still a GPU
                details = {}
            return _describe_tensorflow_gpu(details)
        return _cpu(backend)
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return Device("gpu", torch.cuda.get_device_name(0), backend)
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return Device("gpu", "Apple GPU (MPS)", backend)
        return _cpu(backend)
    return _cpu(backend)  # the numpy backend computes on the CPU


def device_name(backend: str | None = None) -> str:
    """A short name of the device the active Keras backend computes on: ``"NVIDIA H200"``, ``"CPU (2 cores)"``.

    Example::

        plt.title(f"latency measured on {device_name()}")
    """
    return str(active_device(backend))
