"""devices names the device the active backend computes on, imports no backend at import time, refuses bad names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import keras
import pytest

from workshop_utils import devices
from workshop_utils.devices import Device, active_device, cpu_cores, device_name

ROOT = Path(__file__).resolve().parents[1]


def test_cpu_is_named_by_the_cores_this_process_may_use() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert cpu_cores() == expected
    assert str(Device("cpu", "CPU", "numpy", 2)) == "CPU (2 cores)"
    assert str(Device("cpu", "CPU", "numpy", 1)) == "CPU (1 core)"
    assert device_name("numpy") == f"CPU ({expected} core{'s' if expected != 1 else ''})"


def test_the_active_backend_on_this_machine() -> None:
    device = active_device()
    assert device.backend == keras.config.backend()
    if device.kind == "cpu":  # the CI machine: no GPU
        assert device_name() == str(Device("cpu", "CPU", device.backend, cpu_cores())) and not device.is_accelerator
    else:
        assert device.is_accelerator and device_name() == device.name and device.name


def test_a_jax_gpu_or_tpu_is_named_by_its_device_kind() -> None:
    gpu = devices._describe_jax_device(SimpleNamespace(platform="gpu", device_kind="NVIDIA H200"))
    assert (gpu.kind, str(gpu), gpu.cores, gpu.is_accelerator) == ("gpu", "NVIDIA H200", None, True)
    tpu = devices._describe_jax_device(SimpleNamespace(platform="tpu", device_kind="TPU v4"))
    assert (tpu.kind, str(tpu)) == ("tpu", "TPU v4")
    assert str(devices._describe_jax_device(SimpleNamespace(platform="rocm", device_kind=""))) == "ROCM"
    cpu = devices._describe_jax_device(SimpleNamespace(platform="cpu", device_kind="cpu"))
    assert cpu.kind == "cpu" and str(cpu) == str(Device("cpu", "CPU", "jax", cpu_cores()))


def test_a_tensorflow_gpu_is_named_by_its_device_details() -> None:
    assert str(devices._describe_tensorflow_gpu({"device_name": "NVIDIA H200", "compute_capability": (9, 0)})) \
        == "NVIDIA H200"
    assert str(devices._describe_tensorflow_gpu({})) == "GPU"


def test_an_unknown_backend_is_refused_with_the_names_to_pass() -> None:
    with pytest.raises(ValueError, match="pass one of tensorflow, jax, torch, numpy"):
        device_name("mxnet")


def test_importing_the_module_imports_no_backend_and_jax_names_its_device() -> None:
    code = ("import sys\nimport workshop_utils.devices as d\n"
            "assert 'tensorflow' not in sys.modules and 'jax' not in sys.modules and 'keras' not in sys.modules\n"
            "print(d.device_name())\n")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    pytest.importorskip("jax")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(Device("cpu", "CPU", "jax", cpu_cores()))
