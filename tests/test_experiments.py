"""The comparisons' registry: each builds the notebook's models, names its paper's winner, and sizes its run."""

from __future__ import annotations

import keras
import pytest

from workshop_utils import experiments, flops
from workshop_utils.settings import get_profile

#: Parameter counts printed by the notebooks (02, 03, 04, 07, 08) for the same models.
NOTEBOOK_PARAMS = {
    "vgg_style": 86_242, "alexnet_style": 82_690, "small_inception": 96_274, "plain_cnn": 104_914,
    "standard_cnn": 284_538, "separable_twin": 38_634, "resnet20": 274_042, "plain20": 271_098,
    "resnet56": 857_082, "plain56": 857_082, "small_densenet": 180_426, "small_resnet": 176_378,
    "original": 274_042, "constant_scaling": 274_042,
}


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_every_experiment_builds_its_models_with_the_notebooks_counts(name: str) -> None:
    experiment = experiments.get(name)
    shape = (16, 16, 3) if experiment.downsample == 2 else (32, 32, 3)
    costs = {}
    for model_name, build in experiment.models.items():
        keras.utils.set_random_seed(0)
        model = build(shape, 10)
        costs[model_name] = flops.profile(model)
        if model_name in NOTEBOOK_PARAMS:
            assert model.count_params() == NOTEBOOK_PARAMS[model_name]
    assert experiment.claim.count('"') >= 2 and "20" in experiment.claim  # quoted, with its year
    assert experiment.better == ("higher" if experiment.metric == "val_accuracy" else "lower")
    if name in ("separable_equal_macs", "shuffle_vs_no_shuffle", "resnet20_vs_plain20", "densenet_vs_resnet"):
        params = [cost.params for cost in costs.values()]
        assert max(params) / min(params) <= 1.03  # compared at equal parameters


def test_equal_macs_pair_is_within_six_percent() -> None:
    experiment = experiments.get("separable_equal_macs")
    macs = [flops.profile(build((32, 32, 3), 10)).macs for build in experiment.models.values()]
    assert max(macs) / min(macs) <= 1.06


def test_epochs_per_profile() -> None:
    experiment = experiments.get("alexnet_vs_vgg")
    assert experiment.epochs_for(get_profile("ci")) == 1
    assert experiment.epochs_for(get_profile("cpu")) == 6
    assert experiment.epochs_for(get_profile("gpu")) == 24
    assert experiment.epochs_for(get_profile("cpu"), length=2) == 12


def test_bad_names_and_orders_are_refused() -> None:
    with pytest.raises(ValueError, match="choose one of"):
        experiments.get("vgg_vs_everything")
    with pytest.raises(ValueError, match="expected_order"):
        experiments.Experiment(name="x", notebook="00", claim="", metric="val_accuracy", expected_order=("a",),
                               models={"a": None, "b": None}, epochs=1)  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="metric"):
        experiments.Experiment(name="x", notebook="00", claim="", metric="speed", expected_order=("a",),
                               models={"a": None}, epochs=1)  # type: ignore[dict-item]


def test_slow_comparisons_get_a_larger_safety_cap_outside_ci() -> None:
    degradation = experiments.get("degradation")
    assert degradation.profile(get_profile("cpu")).max_train_seconds == 600
    assert degradation.profile(get_profile("ci")).max_train_seconds == get_profile("ci").max_train_seconds
    assert experiments.get("alexnet_vs_vgg").profile(get_profile("cpu")) == get_profile("cpu")
