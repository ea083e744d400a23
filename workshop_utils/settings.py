"""Run settings: one place that decides how big every training run in the workshop is.

Three profiles exist:

* ``ci``  -- under CI and the test command: a few hundred images, one short epoch. Proves the cell runs, nothing more.
* ``cpu`` -- an attendee's laptop: each training cell takes about a minute on 2 cores.
* ``gpu`` -- a GPU was found: the same data, three times the epochs, mixed precision.

Training cells run a step count fixed before they start (epochs x batches per epoch), never a clock: the time
limit is a safety cap, and a run it stops is void (see :mod:`workshop_utils.training`).

The profile is chosen automatically (``WORKSHOP_PROFILE`` overrides it) and printed by :func:`setup`, which every
notebook calls in its first cell. Only this module reads the environment; everything else takes a
:class:`RunProfile`.

Example::

    from workshop_utils import settings
    run = settings.setup(seed=0)   # prints e.g. "Run profile: cpu (...)"; pass `run` to train_classifier
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, replace

import numpy as np

PROFILE_ENV = "WORKSHOP_PROFILE"
PROFILE_NAMES: tuple[str, ...] = ("ci", "cpu", "gpu")


@dataclass(frozen=True)
class RunProfile:
    """How big a training cell is allowed to be.

    Attributes:
        name: ``"ci"``, ``"cpu"`` or ``"gpu"``.
        train_samples: training images a training cell uses.
        test_samples: test images used for evaluation.
        epochs: default number of epochs.
        batch_size: default batch size.
        max_train_seconds: safety cap for one ``fit`` call; the :class:`workshop_utils.training.TimeBudget`
            callback stops a runaway there, and the run is then void (never ranked).
        mixed_precision: whether :func:`setup` turns on the ``mixed_float16`` policy.
        epoch_scale: a comparison's epochs are its ``cpu`` epochs times this (see
            :meth:`workshop_utils.experiments.Experiment.epochs_for`).
        sweep_max_depth: the deepest net a depth sweep builds (notebook 07's gradient norm against depth,
            ``6n + 2`` layers up to this); ``ci`` stops at 20.
        measure_memory: whether cells measure training memory in fresh processes (about a minute each;
            notebook 08). ``ci`` skips it: ``tests/test_memory.py`` covers the code.
        latency_repeats: timed calls of one latency measurement, whose median is reported (notebooks 04 and 05
            time with this or a fixed fraction of it); ``ci`` times 6, enough to prove the cell runs.
        timing_seconds: how long one training-speed measurement runs (at least two steps; notebook 05); ``ci``
            0, so two steps.
        latency_models: how many architectures a cell that times a list of them takes, those with the fewest
            MACs (``None``: all; notebook 09); ``ci`` times 3.

    Example::

        RunProfile("cpu", 10_000, 2_000, 6, 128, 240.0, False).describe()
    """

    name: str
    train_samples: int
    test_samples: int
    epochs: int
    batch_size: int
    max_train_seconds: float
    mixed_precision: bool
    epoch_scale: float = 1.0
    sweep_max_depth: int = 56
    measure_memory: bool = True
    latency_repeats: int = 30
    timing_seconds: float = 5.0
    latency_models: int | None = None

    def describe(self) -> str:
        """One line for a notebook's first cell.

        Example::

            print(get_profile("ci").describe())
        """
        precision = "mixed float16" if self.mixed_precision else "float32"
        return (
            f"Run profile: {self.name} ({self.train_samples:,} training / {self.test_samples:,} test images, "
            f"{self.epochs} epoch(s) of batch {self.batch_size} unless a comparison sets its own, a "
            f"{self.max_train_seconds:.0f} s safety cap per training run, {precision}). "
            f"Change it with {PROFILE_ENV}=ci|cpu|gpu before starting Jupyter."
        )

    def scaled(self, **changes: object) -> RunProfile:
        """A copy with some fields changed, e.g. a notebook that wants twice the epochs.

        Example::

            longer = run.scaled(epochs=run.epochs * 2)
        """
        return replace(self, **changes)  # type: ignore[arg-type]


# Measured on a 2-core machine (benchmarks/bench_recipe.py): at a fixed 6 epochs, batch 64 instead of 128 doubles
# the optimizer steps for 28% more time and lifted notebook 02's VGG-style net from 73.5% to 82.0% validation: these
# small nets are step-bound, not data-bound, so the cpu profile uses batch 64. A comparison's 6 epochs of 9,000
# images then take 20-70 s per model. The caps stop a runaway, not a normal run. shapes10 has 10,000 training
# images; a GPU trains the same images in batches of 256 for four times the epochs: the same number of steps.
PROFILES: dict[str, RunProfile] = {
    "ci": RunProfile("ci", train_samples=512, test_samples=256, epochs=1, batch_size=64,
                     max_train_seconds=60.0, mixed_precision=False, epoch_scale=1.0,
                     sweep_max_depth=20, measure_memory=False, latency_repeats=6, timing_seconds=0.0,
                     latency_models=3),
    "cpu": RunProfile("cpu", train_samples=10_000, test_samples=2_000, epochs=6, batch_size=64,
                      max_train_seconds=240.0, mixed_precision=False, epoch_scale=1.0),
    "gpu": RunProfile("gpu", train_samples=10_000, test_samples=2_000, epochs=24, batch_size=256,
                      max_train_seconds=240.0, mixed_precision=True, epoch_scale=4.0),
}


def _truthy(value: str | None) -> bool:
    return bool(value) and value.strip().lower() not in ("0", "false", "no", "off")


def running_under_ci() -> bool:
    """True under CI (the ``CI`` variable that CI services set, e.g. ``CI=true``).

    ``python3 workshop.py test`` sets ``WORKSHOP_PROFILE=ci`` itself, so a local test run is short too.

    Example::

        if running_under_ci(): print("short run")
    """
    return _truthy(os.environ.get("CI"))


def gpu_available() -> bool:
    """Whether the active Keras backend can see a GPU (TensorFlow, JAX or PyTorch).

    Example::

        gpu_available()  # False on a laptop CPU
    """
    import keras  # local: keep `import workshop_utils` fast

    backend = keras.config.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
        if backend == "jax":
            import jax

            return any(d.platform == "gpu" for d in jax.devices())
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available())
    except Exception:  # a broken GPU driver must not stop the workshop: fall back to CPU
        return False
    return False


def detect_profile() -> str:
    """Name of the profile to use: ``WORKSHOP_PROFILE`` if set, else ci / gpu / cpu by what is found.

    Example::

        detect_profile()  # "cpu" on a laptop, "ci" under pytest
    """
    requested = os.environ.get(PROFILE_ENV, "").strip().lower()
    if requested:
        if requested not in PROFILES:
            raise ValueError(
                f"{PROFILE_ENV}={requested!r} is not a run profile; use one of {', '.join(PROFILE_NAMES)} "
                f"(or unset it to choose automatically)."
            )
        return requested
    if running_under_ci():
        return "ci"
    return "gpu" if gpu_available() else "cpu"


def get_profile(name: str | None = None) -> RunProfile:
    """The :class:`RunProfile` called ``name`` (``None``: :func:`detect_profile`).

    Example::

        get_profile("cpu").train_samples  # 10000
    """
    if name is None:
        name = detect_profile()
    if name not in PROFILES:
        raise ValueError(f"Unknown run profile {name!r}; use one of {', '.join(PROFILE_NAMES)}.")
    return PROFILES[name]


def _make_deterministic() -> None:
    """Ask TensorFlow for repeatable kernels.

    Depthwise convolutions on CPU are bit-exact between runs only with a single inter-op thread (measured; no
    slowdown), so that is set too. TensorFlow refuses threading changes once its runtime has started; then we
    keep going, only less repeatable.
    """
    import keras

    if keras.config.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # runtime already initialised (setup called twice): the first call's setting stands
    tf.config.experimental.enable_op_determinism()
    # The notebooks build many models on purpose, so tf.function's "triggered retracing" advice is noise in
    # them (and in their stored outputs); real errors still show.
    tf.get_logger().setLevel("ERROR")


def setup(seed: int = 0, profile: str | None = None, verbose: bool = True) -> RunProfile:
    """Seed everything, make kernels repeatable, pick the run profile and print it.

    Call once at the top of every notebook, before building models.

    Args:
        seed: seed for Python, NumPy and the Keras backend.
        profile: force a profile name; ``None`` detects it (see :func:`detect_profile`).
        verbose: print the profile line and the Keras backend.

    Example::

        run = setup(seed=0)
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")
    import keras

    _make_deterministic()
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    chosen = get_profile(profile)
    keras.mixed_precision.set_global_policy("mixed_float16" if chosen.mixed_precision else "float32")
    if verbose:
        print(chosen.describe())
        print(f"Keras {keras.__version__} on the {keras.config.backend()} backend; seed {seed}.")
    return chosen
