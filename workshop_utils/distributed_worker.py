"""One MultiWorkerMirroredStrategy worker process: ``python -m workshop_utils.distributed_worker --out DIR ...``.

:func:`workshop_utils.distributed.run_workers` starts one of these per worker, each with its own ``TF_CONFIG``.
The worker joins the cluster, trains :func:`workshop_utils.distributed.worker_model` for a fixed number of steps
in a custom loop (Keras 3's ``fit`` fails under this strategy: an upstream bug), and writes its per-step losses,
stage times and final weights to ``DIR/worker{index}.json`` and ``.npz`` for the launcher to read.

Example::

    TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:41237"]}, "task": {"type": "worker", "index": 0}}' \
        python -m workshop_utils.distributed_worker --out /tmp/run --steps 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workshop_utils.distributed import worker_model


def worker_main(out: Path, steps: int, global_batch: int, threads: int, fail_at_step: int | None,
                try_fit: bool) -> None:
    """One worker: join the cluster named in ``TF_CONFIG``, train ``steps`` custom-loop steps, write the results.

    Example::

        python -m workshop_utils.distributed_worker --out /tmp/run --steps 30 --global-batch 64
    """
    started = time.perf_counter()
    stages: dict[str, float] = {}
    import tensorflow as tf

    stages["import TensorFlow"] = time.perf_counter() - started
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from workshop_utils.data import load_dataset

    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    mark = time.perf_counter()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    stages["join the cluster"] = time.perf_counter() - mark
    mark = time.perf_counter()
    keras.utils.set_random_seed(0)  # same seed everywhere; MWMS also broadcasts worker 0's initial values
    with strategy.scope():
        model = worker_model()
        optimizer = keras.optimizers.SGD(learning_rate=0.05)  # as the notebook's MirroredStrategy run
    dataset = load_dataset().take(train=steps * global_batch, test=1)
    images = dataset.x_train.astype("float32") / 255.0
    batches = tf.data.Dataset.from_tensor_slices((images, dataset.y_train)).batch(global_batch).repeat()
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    iterator = iter(strategy.experimental_distribute_dataset(batches.with_options(options)))
    stages["model and data"] = time.perf_counter() - mark

    def step_on_replica(batch_images: Any, labels: Any) -> Any:
        with tf.GradientTape() as tape:
            probabilities = model(batch_images, training=True)
            per_example = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)  # sum / global batch
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))  # all-reduced across the workers
        return loss

    @tf.function
    def train_step(iterator: Any) -> Any:
        per_replica_loss = strategy.run(step_on_replica, args=next(iterator))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica_loss, axis=None)

    losses, times = [], []
    for step in range(steps):
        if fail_at_step is not None and step == fail_at_step:
            print(f"worker {index}: dying on purpose at step {step}", flush=True)
            os._exit(3)
        mark = time.perf_counter()
        losses.append(float(train_step(iterator)))
        times.append(time.perf_counter())
        if step == 0:
            stages["first step (tracing)"] = times[0] - mark
    stages["other steps"] = times[-1] - times[0]
    report: dict[str, Any] = {"losses": losses, "replicas": strategy.num_replicas_in_sync,
                              "steps_per_second": (len(times) - 1) / (times[-1] - times[0]), "stages": stages}
    np.savez(out / f"worker{index}.npz", **{variable.path: keras.ops.convert_to_numpy(variable)
                                            for variable in model.weights})
    if try_fit:
        try:
            with strategy.scope():
                model.compile(optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
            model.fit(images, dataset.y_train, batch_size=global_batch, epochs=1, verbose=0)
            report["fit_error"] = ""
        except Exception as error:  # noqa: BLE001 (the upstream bug this demonstrates; its message is the result)
            report["fit_error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:300]}"
    (out / f"worker{index}.json").write_text(json.dumps(report))
    print(f"worker {index}: done", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python -m workshop_utils.distributed_worker --out DIR ...`` (started by ``run_workers``).

    Example::

        main(["--out", "/tmp/run", "--steps", "10"])
    """
    parser = argparse.ArgumentParser(prog="python -m workshop_utils.distributed_worker",
                                     description="one MultiWorkerMirroredStrategy worker (needs TF_CONFIG)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fail-at-step", type=int, default=None)
    parser.add_argument("--try-fit", action="store_true")
    args = parser.parse_args(argv)
    if "TF_CONFIG" not in os.environ:
        parser.error("TF_CONFIG is not set: start workers with workshop_utils.distributed.run_workers().")
    worker_main(args.out, args.steps, args.global_batch, args.threads, args.fail_at_step, args.try_fit)


if __name__ == "__main__":
    main()
