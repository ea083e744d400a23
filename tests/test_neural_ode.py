"""Neural ODE pieces: solvers' order of accuracy, parameter sharing, cost rule, gradients through the solver."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from workshop_utils import flops, neural_ode


def _decay_error(method: str, steps: int) -> float:
    h1 = neural_ode.odeint_fixed(lambda h, t: -h, ops.ones((1,), dtype="float32"), 0.0, 1.0, steps, method)
    return abs(float(ops.convert_to_numpy(h1)[0]) - np.exp(-1.0))


def test_euler_is_first_order_and_rk4_fourth_order():
    euler_ratio = _decay_error("euler", 4) / _decay_error("euler", 8)
    rk4_ratio = _decay_error("rk4", 2) / _decay_error("rk4", 4)
    assert 1.8 < euler_ratio < 2.3      # error ~ dt
    assert 12 < rk4_ratio < 20          # error ~ dt^4


def test_time_dependent_right_hand_side_uses_t():
    # dh/dt = t  ->  h(1) = 1/2; RK4 integrates a polynomial of degree <= 4 exactly.
    h1 = neural_ode.odeint_fixed(lambda h, t: ops.ones_like(h) * t, ops.zeros((1,)), 0.0, 1.0, 1, "rk4")
    assert float(ops.convert_to_numpy(h1)[0]) == pytest.approx(0.5, abs=1e-6)


def test_ode_block_shares_one_function_and_resnet_twin_does_not():
    ode = neural_ode.ode_classifier(steps=8, method="rk4")
    one_block = neural_ode.resnet_classifier(blocks=1)
    four_blocks = neural_ode.resnet_classifier(blocks=4)
    assert ode.count_params() == one_block.count_params()
    g_params = ode.get_layer("ode_block").function.count_params()
    assert four_blocks.count_params() - one_block.count_params() == 3 * g_params


def test_cost_rule_counts_evaluations_of_g():
    euler = flops.profile(neural_ode.ode_classifier(steps=4, method="euler"))
    rk4 = flops.profile(neural_ode.ode_classifier(steps=4, method="rk4"))
    stack = flops.profile(neural_ode.resnet_classifier(blocks=4))
    g_macs = neural_ode.ODEFunction(32).macs_per_evaluation(16, 16)
    assert g_macs == 2 * 16 * 16 * 9 * 33 * 32
    assert rk4.macs - euler.macs == 12 * g_macs           # 16 vs 4 evaluations
    assert stack.macs == euler.macs                       # 4 residual blocks = 4 Euler steps of compute


def test_changing_steps_after_building_changes_the_output():
    model = neural_ode.ode_classifier(steps=1, method="euler")
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype("float32")
    block = model.get_layer("ode_block")
    # Make G non-trivial so the solver matters.
    for weight in block.function.weights:
        weight.assign(np.random.default_rng(1).normal(scale=0.3, size=weight.shape).astype("float32"))
    first = ops.convert_to_numpy(model(x))
    block.steps = 8
    assert block.evaluations == 8
    assert not np.allclose(first, ops.convert_to_numpy(model(x)))


def test_gradient_flows_through_the_solver():
    model = neural_ode.ode_classifier(steps=2, method="rk4")
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 32, 32, 3)).astype("float32")
    y = np.arange(8) % 10
    g_before = [np.array(w) for w in model.get_layer("ode_block").function.get_weights()]
    model.fit(x, y, epochs=1, verbose=0)
    g_after = model.get_layer("ode_block").function.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(g_before, g_after))


@pytest.mark.parametrize("bad", [dict(steps=0), dict(method="heun"), dict(channels=0)])
def test_bad_hyper_parameters_raise_clear_errors(bad):
    args = dict(channels=16, steps=2, method="euler") | bad
    with pytest.raises(ValueError, match="steps|method|channels"):
        neural_ode.ODEBlock(**args)


def test_state_channels_must_match():
    block = neural_ode.ODEBlock(16)
    with pytest.raises(ValueError, match="channel"):
        block(keras.Input((8, 8, 12)))


def test_irregular_spiral_is_sorted_noisy_and_matches_the_exact_solution():
    times, observed, truth = neural_ode.irregular_spiral(samples=30, noise=0.05, seed=3)
    assert np.all(np.diff(times) >= 0) and times.shape == (30,)
    assert np.allclose(neural_ode.spiral_truth(np.array([0.0]))[0], [1.0, 0.0], atol=1e-6)
    # The exact solution satisfies dz/dt = A z (central difference).
    t = np.array([1.0 - 1e-3, 1.0 + 1e-3])
    z = neural_ode.spiral_truth(t).astype("float64")
    derivative = (z[1] - z[0]) / 2e-3
    middle = neural_ode.spiral_truth(np.array([1.0]))[0]
    assert np.allclose(derivative, neural_ode.SPIRAL_MATRIX @ middle, atol=1e-3)
    assert 0.01 < np.std(observed - truth) < 0.1


def test_trajectory_layer_fits_a_known_linear_flow():
    times, _, truth = neural_ode.irregular_spiral(samples=8, noise=0.0, seed=0)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), neural_ode.ODETrajectory(hidden=16, substeps=1)])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(times[None], truth[None], epochs=100, verbose=0)
    assert model.output_shape == (None, 8, 2)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_midpoint_is_second_order():
    ratio = _decay_error("midpoint", 4) / _decay_error("midpoint", 8)
    assert 3.5 < ratio < 4.5            # error ~ dt^2


def test_solver_sweep_counts_each_setting_and_puts_the_solver_back():
    keras.utils.set_random_seed(0)
    model = neural_ode.ode_classifier((8, 8, 3), classes=3, channels=8, steps=4, method="euler")
    rng = np.random.default_rng(0)
    images, labels = rng.random((12, 8, 8, 3)).astype("float32"), rng.integers(0, 3, 12)
    sweep = neural_ode.solver_sweep(model, images, labels, methods=("euler", "rk4"), steps=(1, 2))
    assert [(p.method, p.steps, p.evaluations) for p in sweep] == [("euler", 1, 1), ("euler", 2, 2),
                                                                   ("rk4", 1, 4), ("rk4", 2, 8)]
    g_macs = model.get_layer("ode_block").function.macs_per_evaluation(4, 4)
    assert sweep[3].macs - sweep[0].macs == 7 * g_macs        # 8 evaluations against 1
    block = model.get_layer("ode_block")
    assert (block.method, block.steps) == ("euler", 4)
    block.method, block.steps = "rk4", 2
    assert sweep[3].accuracy == neural_ode.evaluate_accuracy(model, images, labels)
    figure = neural_ode.plot_solver_sweep(sweep, "rk4", 2, trained=("euler", 4))
    assert "8 evaluations of G" in figure.axes[0].get_title()
    with pytest.raises(ValueError, match="no point for midpoint"):
        neural_ode.plot_solver_sweep(sweep, "midpoint", 2)
    with pytest.raises(ValueError, match="method must be one of"):
        neural_ode.solver_sweep(model, images, labels, methods=("heun",))


def test_solver_widget_starts_at_a_setting_of_the_sweep():
    points = [neural_ode.SolverPoint(m, n, n * neural_ode.EVALUATIONS_PER_STEP[m], 1000 * n, 0.5)
              for m in ("euler", "rk4") for n in (1, 2)]
    box = neural_ode.solver_widget(points, "rk4", 2)
    buttons, slider = box.children[0].children
    assert list(buttons.options) == ["euler", "rk4"] and list(slider.options) == [1, 2]
    assert box.children[1].value[:4] == b"\x89PNG"              # drawn at construction
    before = box.children[1].value
    slider.value = 1                                             # a change redraws
    assert box.children[1].value != before
    with pytest.raises(ValueError, match="start at a setting"):
        neural_ode.solver_widget(points, "midpoint", 1)
