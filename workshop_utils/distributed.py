"""Data-parallel training on one machine with ``tf.distribute`` (TensorFlow backend only).

Two engines, both real:

* **MirroredStrategy** in the notebook's own process, over two logical CPU devices (or the GPUs when there are at
  least two): :func:`split_cpu` must run before TensorFlow starts its runtime, i.e. in the notebook's first cell.
  Keras ``fit`` works under it; :func:`fit_per_step_losses` trains and records the loss of every step so the
  mirrored run can be laid over a single-device run.
* **MultiWorkerMirroredStrategy** with worker *processes* on 127.0.0.1, each with its own ``TF_CONFIG``:
  :func:`run_workers` starts them (``python -m workshop_utils.distributed_worker ...``) on free ports, waits with a
  timeout, and ends every process it started, whatever happens: a worker that dies or hangs is reported, never
  waited for. Keras 3's ``fit`` fails under this strategy (measured: "Attempt to convert a value (PerReplica...)",
  an upstream bug), so the workers run a custom loop: ``strategy.run`` of a step that scales the loss with
  ``tf.nn.compute_average_loss``; the gradients are all-reduced across the workers before the update.

The worker model (:func:`worker_model`) is a two-fire-module SqueezeNet, built by ``architectures.squeezenet``, with
*synchronized* batch norm (statistics of the global batch, so that no per-replica statistics drift apart) on the
offline shapes10 data; each worker reads its own half of every global batch. The worker process itself is
:mod:`workshop_utils.distributed_worker`.

Example::

    from workshop_utils import distributed
    result = distributed.run_workers(workers=2, steps=30)
    print(result.summary())
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workshop_utils._validate import positive_int

#: What the notebook prints where the backend cannot run these cells.
TENSORFLOW_ONLY = ("This section uses tf.distribute and runs on the TensorFlow backend only; the Keras backend is "
                   "{backend}. Skipped. (Keras' own keras.distribution.DataParallel is the route on JAX.)")
_REPO_ROOT = Path(__file__).resolve().parent.parent


def tensorflow_backend() -> bool:
    """Whether Keras runs on TensorFlow (the only backend tf.distribute drives).

    Example::

        if not tensorflow_backend(): print("skipped")
    """
    import keras

    return keras.config.backend() == "tensorflow"


def skip_message() -> str:
    """The line a TensorFlow-only cell prints on another backend.

    Example::

        print(skip_message())
    """
    import keras

    return TENSORFLOW_ONLY.format(backend=keras.config.backend())


def split_cpu(devices: int = 2) -> list[str]:
    """Split the CPU into ``devices`` logical devices for MirroredStrategy; return the device names to mirror over.

    With two or more GPUs those are returned instead and nothing is split. Must run before TensorFlow initialises
    its runtime (before any model or tensor is created); call it in the notebook's first cell. On another
    backend it does nothing and returns ``[]``.

    Example::

        devices = split_cpu(2)      # ['/device:CPU:0', '/device:CPU:1']
    """
    devices = positive_int("devices", devices)
    if not tensorflow_backend():
        return []
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) >= 2:
        return [f"/device:GPU:{index}" for index in range(len(gpus))]
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
    except RuntimeError as error:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) >= devices:
            return [device.name for device in existing[:devices]]
        raise RuntimeError(
            "TensorFlow has already started, so the CPU can no longer be split into logical devices. Restart the "
            "kernel and run the first cell (which calls distributed.split_cpu) before anything else."
        ) from error
    return [device.name for device in tf.config.list_logical_devices("CPU")[:devices]]


class _StepLosses:
    """Keras callback factory kept lazy so this module imports without Keras."""

    @staticmethod
    def make(losses: list[float], times: list[float]) -> Any:
        import keras

        class Recorder(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
                losses.append(float((logs or {})["loss"]))
                times.append(time.perf_counter())

        return Recorder()


def fit_per_step_losses(
    model: Any, x: np.ndarray, y: np.ndarray, batch_size: int, steps: int
) -> tuple[list[float], float]:
    """Train with ``fit`` for ``steps`` batches in order (no shuffling); return each step's loss and steps/s.

    Keras reports the running mean of the epoch's loss after each step; two runs that compute the same function
    give the same list. Steps/s leaves out the first step (tracing).

    Example::

        losses, speed = fit_per_step_losses(model, x, y, batch_size=64, steps=20)
    """
    steps = positive_int("steps (the first one only traces)", steps, minimum=2)
    if len(x) < steps * batch_size:
        raise ValueError(f"{steps} steps of {batch_size} need {steps * batch_size} examples, got {len(x)}.")
    losses: list[float] = []
    times: list[float] = []
    model.fit(x[: steps * batch_size], y[: steps * batch_size], batch_size=batch_size, epochs=1, shuffle=False,
              verbose=0, callbacks=[_StepLosses.make(losses, times)])
    return losses, (len(times) - 1) / (times[-1] - times[0])


# --------------------------------------------------------------------------------------------------------------
# MultiWorkerMirroredStrategy: the launcher (runs in the notebook) and the worker (runs in each process).


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago (the OS picks them).

    Example::

        free_ports(2)    # e.g. [41237, 38911]
    """
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            handle.bind(("127.0.0.1", 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def tf_config(ports: Sequence[int], index: int) -> dict[str, Any]:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of workers on 127.0.0.1 at ``ports``.

    On a real cluster the addresses are the hosts' names and each host sets its own index.

    Example::

        tf_config([41237, 38911], 0)   # {'cluster': {'worker': [...]}, 'task': {'type': 'worker', 'index': 0}}
    """
    if not 0 <= index < len(ports):
        raise ValueError(f"index must be in 0..{len(ports) - 1}, got {index}.")
    return {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
            "task": {"type": "worker", "index": index}}


@dataclass
class WorkerResult:
    """What one worker process did: exit code, per-step losses, speed, and the tail of its log.

    Example::

        worker.returncode == 0 and worker.steps_per_second > 0
    """

    index: int
    returncode: int | None  # None: it was still running and was stopped by the launcher
    losses: list[float] = field(default_factory=list)
    steps_per_second: float = 0.0
    replicas: int = 0
    fit_error: str = ""
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage: import, cluster, tracing, ...
    log_tail: str = ""
    weights: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class MultiWorkerRun:
    """The outcome of :func:`run_workers`.

    Attributes:
        ok: every worker finished with exit code 0.
        message: one line saying what happened (which worker died or hung, and that all were stopped).
        workers: one :class:`WorkerResult` per worker.
        seconds: wall time from the first start to the last exit.
        left_running: processes still alive after the launcher's clean-up (always 0 unless the OS refused).
        tf_configs: the ``TF_CONFIG`` each worker was started with.

    Example::

        run.ok and run.weights_equal()
    """

    ok: bool
    message: str
    workers: list[WorkerResult]
    seconds: float
    left_running: int = 0
    tf_configs: list[dict[str, Any]] = field(default_factory=list)

    def weights_equal(self) -> bool:
        """Whether every worker ended with bit-identical weights. Example: ``run.weights_equal()``"""
        if not self.ok or not all(worker.weights for worker in self.workers):
            return False
        first = self.workers[0].weights
        return all(set(worker.weights) == set(first) and
                   all(np.array_equal(worker.weights[key], first[key]) for key in first)
                   for worker in self.workers[1:])

    def max_weight_difference(self) -> float:
        """Largest absolute difference between worker 0's weights and any other worker's. Example: ``0.0``"""
        first = self.workers[0].weights
        return max((float(np.max(np.abs(worker.weights[key] - first[key])))
                    for worker in self.workers[1:] for key in first), default=0.0)

    def summary(self) -> str:
        """A few lines for the notebook. Example: ``print(run.summary())``"""
        lines = [self.message]
        for worker in self.workers:
            losses = (f"loss {worker.losses[0]:.4f} -> {worker.losses[-1]:.4f} over {len(worker.losses)} steps, "
                      f"{worker.steps_per_second:.1f} steps/s" if worker.losses else "no steps recorded")
            lines.append(f"  worker {worker.index}: exit code {worker.returncode}, {worker.replicas} replica(s) "
                         f"in sync; {losses}")
        if self.ok and len(self.workers) > 1:
            lines.append(f"  final weights identical on all workers: {self.weights_equal()} "
                         f"(max difference {self.max_weight_difference():.3g})")
        return "\n".join(lines)


def _stop(process: subprocess.Popen) -> None:
    """Ends a worker and everything it started (its own process group): SIGTERM, then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


def run_workers(
    workers: int = 2,
    steps: int = 30,
    global_batch: int = 64,
    timeout: float = 90.0,
    fail_worker: int | None = None,
    fail_at_step: int = 5,
    try_fit: bool = False,
    out_dir: str | Path | None = None,
) -> MultiWorkerRun:
    """Train with MultiWorkerMirroredStrategy in ``workers`` processes on 127.0.0.1; stop them all at the end.

    Each worker is ``python -m workshop_utils.distributed_worker`` with its own ``TF_CONFIG`` (see
    :func:`tf_config`) and an equal share of the CPU's threads. The launcher polls: as soon as one worker exits
    with an error, or ``timeout`` seconds pass, every other worker is stopped and the reason reported; the
    others would otherwise wait forever in the all-reduce for the missing peer.

    Args:
        workers: number of worker processes (1 gives the single-worker baseline with the same code).
        steps, global_batch: training steps, and the batch summed over all workers.
        timeout: seconds before the launcher gives up and stops everything.
        fail_worker, fail_at_step: make that worker die (exit code 3) at that step, to show the failure path.
        try_fit: after the custom loop, each worker also tries Keras ``fit`` and reports its error.
        out_dir: where the workers write logs and weights (default: a temporary folder).

    Example::

        run = run_workers(2, steps=30); assert run.ok and run.weights_equal()
    """
    workers = positive_int("workers", workers)
    steps = positive_int("steps", steps, minimum=2)
    if positive_int("global_batch", global_batch) % workers:
        raise ValueError(f"global_batch must be divisible by the workers ({workers}), got {global_batch}.")
    if fail_worker is not None and not 0 <= fail_worker < workers:
        raise ValueError(f"fail_worker must be in 0..{workers - 1} or None, got {fail_worker}.")
    folder = Path(out_dir or tempfile.mkdtemp(prefix="multiworker_"))
    folder.mkdir(parents=True, exist_ok=True)
    ports = free_ports(workers)
    threads = max(1, (os.cpu_count() or 1) // workers)
    processes: list[subprocess.Popen] = []
    logs = []
    start = time.perf_counter()
    try:
        for index in range(workers):
            env = {**os.environ, "TF_CONFIG": json.dumps(tf_config(ports, index)), "TF_CPP_MIN_LOG_LEVEL": "2",
                   "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": "",
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO_ROOT), os.environ.get("PYTHONPATH")]))}
            command = [sys.executable, "-m", "workshop_utils.distributed_worker", "--out", str(folder),
                       "--steps", str(steps), "--global-batch", str(global_batch), "--threads", str(threads)]
            if fail_worker == index:
                command += ["--fail-at-step", str(fail_at_step)]
            if try_fit:
                command.append("--try-fit")
            log = open(folder / f"worker{index}.log", "w")  # noqa: SIM115 (closed in the finally below)
            logs.append(log)
            processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                              cwd=_REPO_ROOT, start_new_session=True))
        message = ""
        while True:
            codes = [process.poll() for process in processes]
            failed = [index for index, code in enumerate(codes) if code not in (None, 0)]
            if failed:
                still = [index for index, code in enumerate(codes) if code is None]
                message = (f"worker {failed[0]} died (exit code {codes[failed[0]]}) after "
                           f"{time.perf_counter() - start:.1f} s; stopped the workers still waiting for it: "
                           f"{still or 'none'}.")
                break
            if all(code == 0 for code in codes):
                message = f"{workers} worker(s) finished in {time.perf_counter() - start:.1f} s."
                break
            if time.perf_counter() - start > timeout:
                still = [index for index, code in enumerate(codes) if code is None]
                message = f"timed out after {timeout:.0f} s; stopped the workers still running: {still}."
                break
            time.sleep(0.2)
    finally:
        for process in processes:
            _stop(process)
        for log in logs:
            log.close()
    seconds = time.perf_counter() - start
    results = [_read_worker(folder, index, process.returncode) for index, process in enumerate(processes)]
    left = sum(process.poll() is None for process in processes)
    ok = all(process.returncode == 0 for process in processes)
    return MultiWorkerRun(ok, message, results, seconds, left, [tf_config(ports, i) for i in range(workers)])


def _read_worker(folder: Path, index: int, returncode: int | None) -> WorkerResult:
    log_path = folder / f"worker{index}.log"
    log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    result = WorkerResult(index, returncode, log_tail="\n".join(log_text.strip().splitlines()[-5:]))
    report = folder / f"worker{index}.json"
    if report.exists():
        data = json.loads(report.read_text())
        result.losses, result.steps_per_second = data["losses"], data["steps_per_second"]
        result.replicas, result.fit_error = data["replicas"], data.get("fit_error", "")
        result.stages = data.get("stages", {})
    weights = folder / f"worker{index}.npz"
    if weights.exists():
        with np.load(weights) as archive:
            result.weights = {key: archive[key] for key in archive.files}
    return result


def synchronize_batch_norm(model: Any) -> Any:
    """Make every BatchNormalization layer of ``model`` use the global batch's statistics under tf.distribute.

    Without it each replica normalises with its own slice of the batch and updates its own moving mean and
    variance, so the replicas' non-trainable weights drift apart (measured: 0.15 after 20 steps on two workers).
    Keras reads ``synchronized`` when the layer is called, so it can be switched on after building.

    Example::

        with strategy.scope(): model = synchronize_batch_norm(squeezenet(batch_norm=True))
    """
    import keras

    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True
    return model


#: The model each worker trains: SqueezeNet's layout at its smallest, two fire modules for 32x32 images.
WORKER_SQUEEZENET: dict[str, Any] = {
    "version": "1.1", "input_shape": (32, 32, 3), "classes": 10, "modules": 2, "squeeze_ratio": 0.25, "base_e": 32,
    "incr_e": 0, "stem": (16, 3, 1, "same", 2), "batch_norm": True, "dropout": 0.0, "conv10_relu": False,
    "name": "worker_squeezenet"}


def worker_model() -> Any:
    """The model each worker trains: a two-fire-module SqueezeNet for 32x32 images (4,090 weights), BN synchronized.

    Built by :func:`workshop_utils.architectures.squeezenet.squeezenet` from :data:`WORKER_SQUEEZENET`. Small on
    purpose: the workers' time goes into starting TensorFlow and tracing the step (every synchronized batch norm
    adds an all-reduce to the graph), not into the arithmetic.

    Example::

        model = worker_model()
    """
    from workshop_utils.architectures.squeezenet import squeezenet

    return synchronize_batch_norm(squeezenet(**WORKER_SQUEEZENET))
