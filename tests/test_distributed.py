"""tf.distribute helpers: TF_CONFIG, ports, a real two-worker MultiWorkerMirroredStrategy run, a dead worker, and
MirroredStrategy over two logical CPUs against one device (in a fresh process: the CPU split needs a cold runtime)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from workshop_utils import distributed, distributed_worker

pytestmark = pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="tf.distribute is TensorFlow-only")
ROOT = Path(__file__).resolve().parent.parent


def test_tf_config_and_ports():
    ports = distributed.free_ports(2)
    assert len(set(ports)) == 2
    config = distributed.tf_config(ports, 1)
    assert config["cluster"]["worker"] == [f"127.0.0.1:{port}" for port in ports]
    assert config["task"] == {"type": "worker", "index": 1}
    with pytest.raises(ValueError):
        distributed.tf_config(ports, 2)


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        distributed.run_workers(workers=2, global_batch=63)
    with pytest.raises(ValueError, match="fail_worker"):
        distributed.run_workers(workers=2, fail_worker=2)
    with pytest.raises(ValueError, match="workers must be an integer >= 1"):
        distributed.run_workers(workers=0)
    with pytest.raises(ValueError, match="steps .* must be an integer >= 2"):
        distributed.fit_per_step_losses(None, [], [], batch_size=8, steps=1)


def test_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(SystemExit):
        distributed_worker.main(["--out", "/tmp"])


def test_worker_model_is_the_architectures_squeezenet_with_synchronized_bn():
    model = distributed.worker_model()
    assert model.count_params() == 4_090 and model.name == "worker_squeezenet"
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 7 and all(layer.synchronized for layer in norms)


def test_two_workers_train_and_end_with_identical_weights(tmp_path):
    run = distributed.run_workers(workers=2, steps=8, global_batch=32, timeout=240, out_dir=tmp_path)
    assert run.ok, run.summary() + "\n" + "\n".join(worker.log_tail for worker in run.workers)
    assert [worker.replicas for worker in run.workers] == [2, 2]
    assert all(len(worker.losses) == 8 for worker in run.workers)
    assert run.workers[0].losses == run.workers[1].losses
    assert run.weights_equal() and run.max_weight_difference() == 0.0
    assert run.left_running == 0


def test_a_dead_worker_is_reported_and_nothing_keeps_running(tmp_path):
    run = distributed.run_workers(workers=2, steps=8, global_batch=32, timeout=240, fail_worker=1, fail_at_step=2,
                                  out_dir=tmp_path)
    assert not run.ok
    assert "worker 1 died (exit code 3)" in run.message
    assert run.workers[1].returncode == 3
    assert run.left_running == 0
    assert not run.weights_equal()


def test_timeout_stops_everything(tmp_path):
    run = distributed.run_workers(workers=2, steps=8, timeout=0.5, out_dir=tmp_path)
    assert not run.ok and "timed out" in run.message
    assert run.left_running == 0


MIRRORED_SCRIPT = """
import json, keras, numpy as np
from workshop_utils import distributed, distributed_worker
devices = distributed.split_cpu(2)
import tensorflow as tf
rng = np.random.default_rng(0)
x = rng.random((8 * 32, 32, 32, 3)).astype("float32"); y = rng.integers(0, 10, 8 * 32)
keras.utils.set_random_seed(0)
single = distributed.worker_model(); start = single.get_weights()
single.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
single_losses, _ = distributed.fit_per_step_losses(single, x, y, 32, 8)
strategy = tf.distribute.MirroredStrategy(devices)
with strategy.scope():
    mirrored = distributed.worker_model(); mirrored.set_weights(start)
    mirrored.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
mirrored_losses, _ = distributed.fit_per_step_losses(mirrored, x, y, 32, 8)
print(json.dumps({"devices": devices, "replicas": strategy.num_replicas_in_sync, "single": single_losses,
                  "mirrored": mirrored_losses}))
"""


def test_mirrored_over_two_logical_cpus_matches_one_device():
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2 and len(result["devices"]) == 2
    assert result["single"] == pytest.approx(result["mirrored"], rel=1e-4)
    assert result["single"][-1] != result["single"][0]
