"""One protocol for every comparison: equal optimizer steps, the same seed, data order, split and recipe.

A notebook trains the models of an :class:`~workshop_utils.experiments.Experiment` through a :class:`Comparison`:
the step count is fixed before the first model starts (from the run profile, never from a clock), each model sees
the same batches in the same order, and the results table ranks only runs that finished their steps. The
time limit is a safety cap: a run it stops is void.

Example::

    comparison = experiments.get("alexnet_vs_vgg").comparison(run)
    print(comparison.describe())
    comparison.train(alexnet_style); comparison.train(vgg_style)
    print(comparison.table())
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import keras

from workshop_utils.training import TrainResult, results_table, train_classifier

if TYPE_CHECKING:
    from workshop_utils.experiments import Experiment
    from workshop_utils.settings import RunProfile

VALIDATION_FRACTION = 0.1


def metric_value(result: TrainResult, metric: str) -> float:
    """The figure a comparison ranks by: ``"val_accuracy"`` or ``"train_loss"`` (last epoch's mean).

    Example::

        metric_value(result, "train_loss")
    """
    if metric == "val_accuracy":
        return result.val_accuracy
    if metric == "train_loss":
        return result.final_train_loss
    raise ValueError(f"metric must be 'val_accuracy' or 'train_loss'; got {metric!r}.")


def format_metric(value: float, metric: str) -> str:
    """``73.5%`` for an accuracy, ``0.912`` for a loss.

    Example::

        format_metric(0.735, "val_accuracy")  # '73.5%'
    """
    return f"{value:.1%}" if metric == "val_accuracy" else f"{value:.3f}"


def ranked(values: dict[str, float], better: str) -> list[str]:
    """Model names, best first.

    Example::

        ranked({"a": 0.7, "b": 0.8}, "higher")  # ['b', 'a']
    """
    return sorted(values, key=lambda name: -values[name] if better == "higher" else values[name])


def follows(values: dict[str, float], expected_order: tuple[str, ...] | list[str], better: str) -> bool:
    """Whether ``values`` rank the models in ``expected_order`` (each strictly better than the next).

    Example::

        follows({"a": 0.8, "b": 0.7}, ("a", "b"), "higher")  # True
    """
    sign = 1 if better == "higher" else -1
    return all(sign * (values[first] - values[second]) > 0
               for first, second in zip(expected_order, expected_order[1:]))


class Comparison:
    """The live run of one experiment: every model trained by the same protocol, then ranked.

    Example::

        comparison = Comparison(experiments.get("resnet20_vs_plain20"), run)
        result = comparison.train(my_resnet, "resnet20")
    """

    def __init__(self, experiment: Experiment, run: RunProfile, seed: int = 0, length: float = 1.0) -> None:
        self.experiment = experiment
        self.run = experiment.profile(run)
        self.seed = seed
        self.epochs = experiment.epochs_for(run, length)
        self.dataset = experiment.dataset(run)
        self.results: dict[str, TrainResult] = {}
        self._reference_params: dict[str, int] = {}

    @property
    def steps_per_epoch(self) -> int:
        """Full batches per epoch (the incomplete last batch is dropped)."""
        end = min(self.run.train_samples, len(self.dataset.x_train))
        train = end - math.ceil(VALIDATION_FRACTION * end)
        return train // min(self.run.batch_size, train)

    @property
    def steps(self) -> int:
        """Optimizer steps every model takes."""
        return self.epochs * self.steps_per_epoch

    def describe(self) -> str:
        """What every model gets: three lines (steps and data; recipe; ranking and cap), each short enough
        for a slide.

        Example::

            print(comparison.describe())
        """
        experiment = self.experiment
        return (f"{experiment.name}: every model trains {self.steps:,} steps ({self.epochs} epochs of "
                f"{self.steps_per_epoch} batches of {min(self.run.batch_size, self.dataset.x_train.shape[0])}) on "
                f"{self.dataset.name}, in the order drawn from seed {self.seed}.\nRecipe: "
                f"{experiment.recipe.describe()}.\nRanked by {experiment.metric.replace('_', ' ')} "
                f"({experiment.better} is better). Safety cap: {self.run.max_train_seconds:.0f} s per model.")

    def build(self, name: str) -> keras.Model:
        """The experiment's model ``name``, seeded as the reference runs seed it.

        Example::

            comparison.build("vgg_style")
        """
        return self.experiment.build(name, self.dataset, self.seed)

    def train(self, model: keras.Model, name: str | None = None, progress: bool | None = None) -> TrainResult:
        """Train ``model`` as the experiment's model ``name`` (default: ``model.name``) and keep its result.

        A model whose parameter count differs from the experiment's own build still trains, with a note: the
        reference runs are for the experiment's model.

        Example::

            comparison.train(my_resnet, "resnet20")
        """
        name = model.name if name is None else name
        if name not in self.experiment.models:
            raise ValueError(f"{self.experiment.name} compares {list(self.experiment.models)}; pass "
                             f"name=... with one of them (got {name!r}).")
        if name not in self._reference_params:
            self._reference_params[name] = self.build(name).count_params()
        if model.count_params() != self._reference_params[name]:
            print(f"Note: this {name} has {model.count_params():,} parameters, the experiment's "
                  f"{self._reference_params[name]:,}: the reference runs are for the experiment's model.")
        keras.utils.set_random_seed(self.seed)  # dropout and other random layers draw alike for every model
        result = train_classifier(model, self.dataset, self.run, epochs=self.epochs, recipe=self.experiment.recipe,
                                  seed=self.seed, progress=progress, validation_fraction=VALIDATION_FRACTION)
        result.name = name
        self.results[name] = result
        return result

    def values(self) -> dict[str, float]:
        """The ranking metric of every model trained so far (void runs included).

        Example::

            comparison.values()  # {'vgg_style': 0.81, 'alexnet_style': 0.76}
        """
        return {name: metric_value(result, self.experiment.metric) for name, result in self.results.items()}

    def verdict(self) -> str:
        """One line: the live ranking and whether it follows the paper's direction.

        Example::

            print(comparison.verdict())
        """
        experiment = self.experiment
        missing = [name for name in experiment.expected_order if name not in self.results]
        if missing:
            return f"Not ranked yet: {', '.join(missing)} still to train."
        void = [name for name, result in self.results.items() if result.void]
        if void:
            return f"Not ranked: {', '.join(void)} stopped at the safety cap before its steps (void)."
        values = self.values()
        order = " > ".join(f"{name} ({format_metric(values[name], experiment.metric)})"
                           for name in ranked(values, experiment.better))
        held = follows(values, experiment.expected_order, experiment.better)
        return (f"Your run, ranked by {experiment.metric.replace('_', ' ')}: {order}. The paper's direction "
                f"({' > '.join(experiment.expected_order)}) {'held' if held else 'did not hold'} in this run.")

    def table(self) -> str:
        """The results table: cost, steps, time, speed, final training loss, validation and test accuracy.

        Example::

            print(comparison.table())
        """
        return results_table(self.results)

    def plot(self, metric: str = "val_accuracy") -> Any:
        """Learning curves of every trained model against optimizer steps and against seconds.

        Example::

            comparison.plot()
        """
        import matplotlib.pyplot as plt

        key = {"val_accuracy": "val_accuracy", "train_loss": "loss"}[metric]
        figure, (by_steps, by_time) = plt.subplots(1, 2, figsize=(10, 3.4))
        for name, r in self.results.items():
            values = r.history.get(key, [])
            by_steps.plot(r.epoch_steps[:len(values)], values, marker="o", label=name)
            by_time.plot(r.epoch_seconds[:len(values)], values, marker="o", label=name)
        label = "validation accuracy" if metric == "val_accuracy" else "training loss"
        by_steps.set(xlabel="optimizer steps", ylabel=label, title="against steps: the comparison")
        by_time.set(xlabel="seconds of training on this machine", title="against time: what speed buys")
        by_steps.legend()
        figure.tight_layout()
        return figure
