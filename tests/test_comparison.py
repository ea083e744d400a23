"""The comparison protocol: equal steps, the same batches, void runs never ranked, a rerun gives the same numbers."""

from __future__ import annotations

import keras
import pytest

from workshop_utils import experiments
from workshop_utils.comparison import Comparison, follows, format_metric, ranked
from workshop_utils.settings import get_profile


def tiny(width: int, name: str):
    def build(input_shape, classes):
        inputs = keras.Input(input_shape)
        x = keras.layers.Conv2D(width, 3, strides=2, activation="relu")(inputs)
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, keras.layers.Dense(classes, activation="softmax")(x), name=name)
    return build


@pytest.fixture()
def experiment() -> experiments.Experiment:
    return experiments.Experiment(
        name="tiny", notebook="00_test", claim='"wider is better" (nobody 2026)', metric="val_accuracy",
        expected_order=("wide", "narrow"), models={"wide": tiny(8, "wide"), "narrow": tiny(2, "narrow")}, epochs=3)


def test_every_model_gets_the_same_steps_and_the_table_ranks_them(experiment: experiments.Experiment) -> None:
    comparison = experiment.comparison(get_profile("ci"))
    assert comparison.steps == 7 and "7 steps (1 epochs of 7 batches of 64)" in comparison.describe()
    assert comparison.verdict().startswith("Not ranked yet")
    for name in experiment.expected_order:
        comparison.train(comparison.build(name), progress=False)
    assert {r.steps_run for r in comparison.results.values()} == {7}
    table = comparison.table()
    assert table.splitlines()[0].split()[:4] == ["model", "params", "MACs", "steps"]
    assert "wide" in table and "narrow" in table and "void" not in table
    assert "The paper's direction (wide > narrow)" in comparison.verdict()


def test_a_rerun_prints_the_same_numbers(experiment: experiments.Experiment) -> None:
    runs = []
    for _ in range(2):
        comparison = experiment.comparison(get_profile("ci"))
        runs.append(comparison.train(comparison.build("wide"), progress=False))
    assert runs[0].history == runs[1].history and runs[0].val_accuracy == runs[1].val_accuracy


def test_a_capped_run_is_void_and_not_ranked(experiment: experiments.Experiment) -> None:
    comparison = Comparison(experiment, get_profile("ci").scaled(max_train_seconds=1e-4))
    for name in experiment.expected_order:
        comparison.train(comparison.build(name), progress=False)
    assert all(r.void for r in comparison.results.values())
    assert comparison.verdict().startswith("Not ranked: wide, narrow stopped at the safety cap")
    assert "* void" in comparison.table()


def test_a_different_model_is_trained_with_a_note(experiment: experiments.Experiment,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    comparison = experiment.comparison(get_profile("ci"))
    comparison.train(tiny(4, "wide")((32, 32, 3), 10), progress=False)
    assert "the reference runs are for the experiment's model" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"compares \['wide', 'narrow'\]"):
        comparison.train(tiny(4, "medium")((32, 32, 3), 10))


def test_ranking_helpers() -> None:
    assert ranked({"a": 0.5, "b": 0.7}, "higher") == ["b", "a"]
    assert ranked({"a": 0.5, "b": 0.7}, "lower") == ["a", "b"]
    assert follows({"a": 0.9, "b": 0.5, "c": 0.1}, ("a", "b", "c"), "higher")
    assert not follows({"a": 0.9, "b": 0.5, "c": 0.6}, ("a", "b", "c"), "higher")
    assert follows({"a": 1.0, "b": 2.0}, ("a", "b"), "lower")
    assert format_metric(0.7349, "val_accuracy") == "73.5%" and format_metric(0.91234, "train_loss") == "0.912"
