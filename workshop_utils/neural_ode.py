"""Neural ODEs (Chen, Rubanova, Bettencourt & Duvenaud, NeurIPS 2018, arXiv:1806.07366) in plain ``keras.ops``.

A residual block computes ``h + G(h)``: one Euler step of ``dh/dt = G(h, t)`` with step 1. An ODE block keeps
**one** ``G`` and integrates it from t = 0 to 1 with a fixed-step solver, so depth becomes the number of solver
steps and the parameters do not grow with it. Everything here is written with ``keras.ops``, so it runs on
every backend and gradients flow through the solver by ordinary backpropagation (the paper's adjoint method, which
re-solves the ODE backwards to save memory, is not used).

* :class:`ODEFunction` -- ``G(h, t)``: norm, ReLU, 3x3 conv on ``[h, t]``, norm, ReLU, 3x3 conv on ``[h, t]``
  (the time enters as an extra constant channel, as in the paper's ODE-Net).
* :class:`ODEBlock` -- integrates one ``G`` with Euler, midpoint or RK4 over ``steps`` fixed steps.
* :func:`solver_sweep` / :func:`plot_solver_sweep` / :func:`solver_widget` -- a trained ODE-Net evaluated with
  every solver and number of steps (accuracy and MACs), and notebook 09's widget over them.
* :class:`ResidualStack` -- the discrete twin: ``blocks`` residual blocks ``h + G_i(h, t_i)``, each with its own
  weights (the deck's ``resnet(h)``).
* :func:`ode_classifier` / :func:`resnet_classifier` -- the same stem and head around either.
* :class:`ODETrajectory` -- a small ODE fitted to irregularly sampled 2-D observations (the deck's "health
  records taken at random times").

Example::

    model = ode_classifier((32, 32, 3), classes=10, channels=32, steps=4, method="rk4")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from workshop_utils._validate import choice, positive_int

#: Solvers and how many evaluations of G each step costs.
EVALUATIONS_PER_STEP: dict[str, int] = {"euler": 1, "midpoint": 2, "rk4": 4}


def _with_time(h: Any, t: Any) -> Any:
    """Append the time as one constant channel, so G can depend on t."""
    return ops.concatenate([h, ops.ones_like(h[..., :1]) * t], axis=-1)


@keras.saving.register_keras_serializable(package="workshop_utils")
class ODEFunction(layers.Layer):
    """``G(h, t)``: the right-hand side of ``dh/dt = G(h, t)`` for feature maps with ``channels`` channels.

    Group normalisation rather than batch norm: G is evaluated at several times per step, and batch statistics
    would change with t (the paper's ODE-Net uses group norm for this reason).

    Example::

        G = ODEFunction(32); dh = G(h, 0.5)
    """

    def __init__(self, channels: int, groups: int = 8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channels = positive_int("channels", channels)
        self.groups = min(positive_int("groups", groups), self.channels)
        if self.channels % self.groups:
            raise ValueError(f"channels ({channels}) must be divisible by groups ({self.groups}).")
        self.norm_in = layers.GroupNormalization(self.groups, name="norm_in")
        self.conv_a = layers.Conv2D(self.channels, 3, padding="same", name="conv_a")
        self.norm_mid = layers.GroupNormalization(self.groups, name="norm_mid")
        self.conv_b = layers.Conv2D(self.channels, 3, padding="same", name="conv_b")

    def build(self, input_shape: tuple) -> None:
        if input_shape[-1] != self.channels:
            raise ValueError(f"ODEFunction({self.channels}) got {input_shape[-1]} channels; the state's channel "
                             f"count must stay the same through an ODE.")
        with_time = (*input_shape[:-1], self.channels + 1)
        self.norm_in.build(input_shape)
        self.conv_a.build(with_time)
        self.norm_mid.build(input_shape)
        self.conv_b.build(with_time)

    def call(self, h: Any, t: Any = 0.0) -> Any:
        x = ops.relu(self.norm_in(h))
        x = self.conv_a(_with_time(x, t))
        x = ops.relu(self.norm_mid(x))
        return self.conv_b(_with_time(x, t))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def macs_per_evaluation(self, height: int, width: int) -> int:
        """Multiply-adds of one evaluation of G on a height x width map: two 3x3 convs over channels + 1."""
        return 2 * height * width * 9 * (self.channels + 1) * self.channels

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channels": self.channels, "groups": self.groups}


def euler_step(G: Any, h: Any, t: float, dt: float) -> Any:
    """One explicit Euler step: ``h + dt * G(h, t)``. With dt = 1 this *is* a residual block."""
    return h + dt * G(h, t=t)


def midpoint_step(G: Any, h: Any, t: float, dt: float) -> Any:
    """One explicit midpoint step (2 evaluations of G, second order): Euler to the half step, its slope for all."""
    k1 = G(h, t=t)
    return h + dt * G(h + 0.5 * dt * k1, t=t + 0.5 * dt)


def rk4_step(G: Any, h: Any, t: float, dt: float) -> Any:
    """One classic Runge-Kutta step (4 evaluations of G, error O(dt^5) per step)."""
    # t goes by keyword: a Keras layer takes only tensors positionally.
    k1 = G(h, t=t)
    k2 = G(h + 0.5 * dt * k1, t=t + 0.5 * dt)
    k3 = G(h + 0.5 * dt * k2, t=t + 0.5 * dt)
    k4 = G(h + dt * k3, t=t + dt)
    return h + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


STEPPERS = {"euler": euler_step, "midpoint": midpoint_step, "rk4": rk4_step}


def odeint_fixed(G: Any, h0: Any, t0: float, t1: float, steps: int, method: str = "rk4") -> Any:
    """Integrate ``dh/dt = G(h, t)`` from ``t0`` to ``t1`` in ``steps`` equal steps; differentiable end to end.

    Example::

        h1 = odeint_fixed(lambda h, t: -h, ops.ones((1,)), 0.0, 1.0, steps=8)   # ~exp(-1)
    """
    step = STEPPERS[choice("method", method, tuple(EVALUATIONS_PER_STEP))]
    steps = positive_int("steps", steps)
    dt = (t1 - t0) / steps
    h = h0
    for index in range(steps):
        h = step(G, h, t0 + index * dt, dt)
    return h


@keras.saving.register_keras_serializable(package="workshop_utils")
class ODEBlock(layers.Layer):
    """An ODE-Net block: one shared :class:`ODEFunction` integrated from t = 0 to 1 in ``steps`` fixed steps.

    ``steps`` can be changed after training (``block.steps = 8``) to evaluate the same weights with a finer
    solver; call the model directly afterwards (``model(x)``), since ``predict`` keeps its traced function.

    Example::

        h = ODEBlock(32, steps=4, method="rk4")(h)
    """

    def __init__(self, channels: int, steps: int = 4, method: str = "rk4", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channels = positive_int("channels", channels)
        self.steps = positive_int("steps", steps)
        self.method = choice("method", method, tuple(EVALUATIONS_PER_STEP))
        self.function = ODEFunction(self.channels, name="G")

    def build(self, input_shape: tuple) -> None:
        self.function.build(input_shape)

    def call(self, h: Any) -> Any:
        return odeint_fixed(self.function, h, 0.0, 1.0, self.steps, self.method)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    @property
    def evaluations(self) -> int:
        """Evaluations of G per forward pass: the ODE block's "depth"."""
        return self.steps * EVALUATIONS_PER_STEP[self.method]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channels": self.channels, "steps": self.steps, "method": self.method}


@keras.saving.register_keras_serializable(package="workshop_utils")
class ResidualStack(layers.Layer):
    """The discrete twin of :class:`ODEBlock`: ``blocks`` residual blocks ``h + G_i(h, t_i)``, weights not shared.

    Each block is one Euler step of length 1/blocks with its own G (the deck's ``resnet(h)`` loop, θ[t] per step).

    Example::

        h = ResidualStack(32, blocks=4)(h)    # 4x the parameters of ODEBlock(32)
    """

    def __init__(self, channels: int, blocks: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channels = positive_int("channels", channels)
        self.blocks = positive_int("blocks", blocks)
        self.functions = [ODEFunction(self.channels, name=f"G{index + 1}") for index in range(self.blocks)]

    def build(self, input_shape: tuple) -> None:
        for function in self.functions:
            function.build(input_shape)

    def call(self, h: Any) -> Any:
        dt = 1.0 / self.blocks
        for index, function in enumerate(self.functions):
            h = euler_step(function, h, index * dt, dt)
        return h

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    @property
    def evaluations(self) -> int:
        return self.blocks

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "channels": self.channels, "blocks": self.blocks}


def _classifier(core: layers.Layer, input_shape: tuple[int, int, int], classes: int, channels: int,
                name: str) -> keras.Model:
    """Shared stem and head: 3x3/2 conv + BN + ReLU, the core at half resolution, norm + ReLU, GAP, softmax."""
    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(channels, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(momentum=0.9, name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    x = core(x)
    x = layers.GroupNormalization(min(8, channels), name="head_norm")(x)
    x = layers.Activation("relu", name="head_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def ode_classifier(input_shape: tuple[int, int, int] = (32, 32, 3), classes: int = 10, channels: int = 32,
                   steps: int = 4, method: str = "rk4") -> keras.Model:
    """A small ODE-Net: stem, one :class:`ODEBlock` (one G, ``steps`` solver steps), head.

    Example::

        ode_classifier(steps=4, method="rk4").count_params()
    """
    core = ODEBlock(channels, steps=steps, method=method, name="ode_block")
    return _classifier(core, input_shape, classes, channels, name=f"odenet_{method}{steps}")


def resnet_classifier(input_shape: tuple[int, int, int] = (32, 32, 3), classes: int = 10, channels: int = 32,
                      blocks: int = 4) -> keras.Model:
    """The same stem and head around :class:`ResidualStack`: ``blocks`` residual blocks with their own G.

    Example::

        resnet_classifier(blocks=1).count_params() == ode_classifier().count_params()   # True
    """
    core = ResidualStack(channels, blocks=blocks, name="residual_stack")
    return _classifier(core, input_shape, classes, channels, name=f"resnet_{blocks}blocks")


def evaluate_accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray, batch_size: int = 500) -> float:
    """Accuracy from direct calls (not ``predict``), so a changed ``ODEBlock.steps`` takes effect.

    Images are uint8 (a :class:`~workshop_utils.data.Dataset`'s) or floats already in [0, 1].

    Example::

        evaluate_accuracy(model, dataset.x_test, dataset.y_test)
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels.")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    correct = 0
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size].astype("float32") / scale
        scores = ops.convert_to_numpy(model(batch, training=False))
        correct += int(np.sum(np.argmax(scores, axis=-1) == labels[start:start + batch_size]))
    return correct / max(len(labels), 1)


@dataclass(frozen=True)
class SolverPoint:
    """A trained ODE-Net evaluated with one solver setting."""

    method: str
    steps: int
    evaluations: int
    macs: int
    accuracy: float


def solver_sweep(model: keras.Model, images: np.ndarray, labels: np.ndarray,
                 methods: Sequence[str] = tuple(EVALUATIONS_PER_STEP), steps: Sequence[int] = (1, 2, 4, 8, 16),
                 block: str = "ode_block") -> list[SolverPoint]:
    """The trained ``model``'s accuracy on ``images`` and its counted MACs per image for every ``(method, steps)``.

    The weights stay those of training; only the :class:`ODEBlock` called ``block`` changes its solver, and is put
    back as it was afterwards. Accuracy by :func:`evaluate_accuracy` (direct calls); MACs by the workshop's counter
    (``flops.profile``), which counts the block as its evaluations of G.

    Example::

        sweep = solver_sweep(ode_model, dataset.x_test[:1000], dataset.y_test[:1000])
    """
    from workshop_utils import flops

    ode = model.get_layer(block)
    if not isinstance(ode, ODEBlock):
        raise ValueError(f"layer {block!r} of {model.name} is a {type(ode).__name__}, not an ODEBlock.")
    methods = [choice("method", method, tuple(EVALUATIONS_PER_STEP)) for method in methods]
    steps = [positive_int("steps", n) for n in steps]
    trained = (ode.method, ode.steps)
    points = []
    try:
        for method in methods:
            for n in steps:
                ode.method, ode.steps = method, n
                points.append(SolverPoint(method, n, ode.evaluations, flops.profile(model).macs,
                                          evaluate_accuracy(model, images, labels)))
    finally:
        ode.method, ode.steps = trained
    return points


def plot_solver_sweep(points: Sequence[SolverPoint], method: str, steps: int,
                      trained: tuple[str, int] | None = None):  # -> Figure
    """Accuracy against MACs per image, one line a solver, the point ``(method, steps)`` marked and read out.

    ``trained`` (the solver the weights were trained with) is ringed.

    Example::

        plot_solver_sweep(sweep, "rk4", 4, trained=("euler", 4))
    """
    import matplotlib.pyplot as plt

    chosen = [p for p in points if (p.method, p.steps) == (method, steps)]
    if not chosen:
        raise ValueError(f"no point for {method} x {steps} steps; the sweep has "
                         f"{sorted({(p.method, p.steps) for p in points})}.")
    (point,) = chosen
    figure, axis = plt.subplots(figsize=(8, 3.6))
    for index, name in enumerate(dict.fromkeys(p.method for p in points)):
        line = sorted((p for p in points if p.method == name), key=lambda p: p.steps)
        per_step = EVALUATIONS_PER_STEP[name]
        axis.plot([p.macs / 1e6 for p in line], [p.accuracy for p in line], "-o", color=f"C{index}", markersize=4,
                  label=f"{name} ({per_step} evaluation{'s' if per_step > 1 else ''} of G a step)")
        for p in line:
            axis.annotate(f"{p.steps}", (p.macs / 1e6, p.accuracy), textcoords="offset points", xytext=(3, -10),
                          fontsize=7, color=f"C{index}")
    if trained is not None:
        ring = [p for p in points if (p.method, p.steps) == tuple(trained)]
        axis.scatter([p.macs / 1e6 for p in ring], [p.accuracy for p in ring], s=160, facecolors="none",
                     edgecolors="black", label=f"trained with: {trained[0]} x {trained[1]}")
    axis.scatter([point.macs / 1e6], [point.accuracy], s=220, marker="*", color="black", zorder=3)
    axis.set(xscale="log", xlabel="M multiply-adds per image (counted; numbers: solver steps)",
             ylabel="accuracy", title=f"{method} x {steps} steps = {point.evaluations} evaluations of G: "
                                      f"{point.macs / 1e6:.1f}M MACs per image, accuracy {point.accuracy:.1%}")
    axis.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    return figure


def solver_widget(points: Sequence[SolverPoint], method: str = "euler", steps: int = 4,
                  trained: tuple[str, int] | None = None) -> Any:
    """Solver buttons and a steps slider redrawing :func:`plot_solver_sweep` from ``points``.

    Nothing is evaluated on a redraw (the sweep holds every setting), so it only draws: well under a second. Show it
    with :func:`workshop_utils.display.show_widget` and ``plot_solver_sweep(points, method, steps, trained)``.

    Example::

        show_widget(solver_widget(sweep, trained=("euler", 4)), plot_solver_sweep(sweep, "euler", 4, ("euler", 4)))
    """
    import ipywidgets as widgets

    from workshop_utils.display import figure_png

    methods = list(dict.fromkeys(p.method for p in points))
    steps_options = sorted({p.steps for p in points})
    if method not in methods or steps not in steps_options:
        raise ValueError(f"start at a setting of the sweep: methods {methods}, steps {steps_options}; "
                         f"got {method} x {steps}.")
    solver_buttons = widgets.ToggleButtons(options=methods, value=method)
    steps_slider = widgets.SelectionSlider(options=steps_options, value=steps, description="steps",
                                           continuous_update=False)
    picture = widgets.Image(format="png")

    def redraw(change: Any = None) -> None:
        picture.value = figure_png(plot_solver_sweep(points, solver_buttons.value, steps_slider.value, trained))

    for control in (solver_buttons, steps_slider):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([solver_buttons, steps_slider]), picture])


# --- Irregularly sampled time series -----------------------------------------------------------------------------

#: The hidden dynamics of :func:`irregular_spiral`: a damped rotation, dz/dt = A z.
SPIRAL_MATRIX = np.array([[-0.1, 2.0], [-2.0, -0.1]], dtype="float32")


def irregular_spiral(samples: int = 25, t_max: float = 5.0, noise: float = 0.03,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 2-D damped spiral observed at ``samples`` random, sorted times in [0, t_max], with Gaussian noise.

    Returns ``(times, observations, true_states)``; the truth is exact (matrix exponential of the linear ODE).

    Example::

        times, observed, truth = irregular_spiral(25, seed=0)
    """
    samples = positive_int("samples", samples)
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.0, t_max, size=samples)).astype("float32")
    truth = spiral_truth(times)
    observed = truth + rng.normal(scale=noise, size=truth.shape).astype("float32")
    return times, observed.astype("float32"), truth


def spiral_truth(times: np.ndarray, start: Sequence[float] = (1.0, 0.0)) -> np.ndarray:
    """The exact spiral z(t) = exp(tA) z(0) at the given times (eigen-decomposition of A)."""
    values, vectors = np.linalg.eig(SPIRAL_MATRIX.astype("float64"))
    coefficients = np.linalg.solve(vectors, np.asarray(start, dtype="float64"))
    states = (vectors @ (coefficients[:, None] * np.exp(values[:, None] * np.asarray(times)[None, :]))).real.T
    return states.astype("float32")


@keras.saving.register_keras_serializable(package="workshop_utils")
class ODETrajectory(layers.Layer):
    """Fits ``dz/dt = MLP(z)`` to observations at irregular times: input times (batch, T), output states (batch, T, 2).

    The start state is a trainable weight; between consecutive observation times the ODE is integrated with
    ``substeps`` RK4 steps, whatever the gap, which is what a discrete RNN cannot do without tricks.

    Example::

        model = keras.Sequential([keras.Input((T,)), ODETrajectory(hidden=32)])
    """

    def __init__(self, hidden: int = 32, state_size: int = 2, substeps: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden = positive_int("hidden", hidden)
        self.state_size = positive_int("state_size", state_size)
        self.substeps = positive_int("substeps", substeps)
        self.layer_in = layers.Dense(self.hidden, activation="tanh", name="mlp_in")
        self.layer_out = layers.Dense(self.state_size, name="mlp_out")

    def build(self, input_shape: tuple) -> None:
        self.start = self.add_weight(shape=(self.state_size,), initializer="zeros", name="start_state")
        self.layer_in.build((None, self.state_size))
        self.layer_out.build((None, self.hidden))

    def dynamics(self, z: Any, t: Any = 0.0) -> Any:
        return self.layer_out(self.layer_in(z))

    def call(self, times: Any) -> Any:
        steps = times.shape[-1]
        z = ops.zeros_like(times[:, :1]) + self.start      # (batch, state): every sequence starts at start_state
        t = ops.zeros_like(times[:, :1])
        states = []
        for index in range(steps):
            dt = (times[:, index:index + 1] - t) / self.substeps
            for _ in range(self.substeps):
                z = rk4_step(self.dynamics, z, 0.0, dt)
            t = times[:, index:index + 1]
            states.append(z)
        return ops.stack(states, axis=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[1], self.state_size)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "hidden": self.hidden, "state_size": self.state_size,
                "substeps": self.substeps}
