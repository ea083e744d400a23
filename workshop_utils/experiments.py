"""The workshop's comparisons, each defined once: its models, data, length, and the paper's claim it tests.

A notebook trains a comparison live (``experiments.get(name).comparison(run)``, see
:mod:`workshop_utils.comparison`); ``python3 workshop.py reference`` reruns it over several seeds and stores the
results in ``data/reference_runs/NAME.json`` (:mod:`workshop_utils.reference_runs`), the evidence the live run is
read against. Every model of a comparison trains for the same optimizer steps, on the same batches in the same
order, with one :class:`~workshop_utils.recipe.Recipe`.

Example::

    experiment = get("alexnet_vs_vgg")
    experiment.expected_order   # ('vgg_style', 'alexnet_style'): the paper's winner first
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import keras
from keras import layers

from workshop_utils.recipe import Recipe

if TYPE_CHECKING:
    from workshop_utils.comparison import Comparison
    from workshop_utils.data import Dataset
    from workshop_utils.settings import RunProfile

Builder = Callable[[tuple[int, int, int], int], keras.Model]
METRICS = {"val_accuracy": "higher", "train_loss": "lower"}


@dataclass(frozen=True)
class Experiment:
    """One comparison: models built by ``models[name](input_shape, classes)``, trained alike, ranked by ``metric``.

    Attributes:
        name: the file name under ``data/reference_runs/``.
        notebook: the notebook that runs it live.
        claim: the paper's statement it tests, quoted, with its source.
        metric: ``"val_accuracy"`` (validation accuracy after the last step) or ``"train_loss"`` (training loss
            over the last epoch).
        expected_order: model names, the one the paper says wins first.
        models: a builder per model name.
        epochs: passes over the training images in the ``cpu`` profile (the ``gpu`` profile scales them by
            ``RunProfile.epoch_scale``; the ``ci`` profile runs one).
        downsample: 2 trains on 16x16 images (``Dataset.downsampled(2)``).
        train_samples: training images (validation split included) if fewer than the profile's.
        batch_size: if not the profile's.
        recipe: the training recipe.
        scale_note: one line on what this scale cannot show, where the paper's effect needs more.
        cap_seconds: a larger safety cap for this comparison's slowest nets (56 layers, DenseNet) than the
            profile's, so that a busy laptop slows them down without voiding them (not in the ``ci`` profile).
        data: ``data(run) -> Dataset`` for a comparison on other data than shapes10 (e.g. notebook 09's
            multi-scale shapes); ``downsample`` still applies.

    Example::

        get("resnet20_vs_plain20").epochs_for(settings.get_profile("cpu"))
    """

    name: str
    notebook: str
    claim: str
    metric: str
    expected_order: tuple[str, ...]
    models: dict[str, Builder] = field(repr=False)
    epochs: int
    downsample: int = 1
    train_samples: int | None = None
    batch_size: int | None = None
    recipe: Recipe = Recipe()
    scale_note: str = ""
    cap_seconds: float | None = None
    data: Callable[[RunProfile], Dataset] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"{self.name}: metric must be one of {sorted(METRICS)}; got {self.metric!r}.")
        if sorted(self.expected_order) != sorted(self.models):
            raise ValueError(f"{self.name}: expected_order {self.expected_order} must name each model once.")

    @property
    def better(self) -> str:
        """``"higher"`` or ``"lower"``: which way the metric is better."""
        return METRICS[self.metric]

    def profile(self, run: RunProfile) -> RunProfile:
        """The run profile this comparison trains with: the batch size and image count it sets, else ``run``'s.

        Example::

            get("densenet_vs_resnet").profile(run).batch_size
        """
        changes: dict[str, Any] = {}
        if self.batch_size is not None and run.name != "ci":
            changes["batch_size"] = self.batch_size
        if self.train_samples is not None:
            changes["train_samples"] = min(run.train_samples, self.train_samples)
        if self.cap_seconds is not None and run.name != "ci":
            changes["max_train_seconds"] = max(run.max_train_seconds, self.cap_seconds)
        return run.scaled(**changes) if changes else run

    def epochs_for(self, run: RunProfile, length: float = 1.0) -> int:
        """Epochs in ``run``'s profile: 1 in ``ci``, ``epochs x length`` in ``cpu``, scaled again on a GPU.

        Example::

            get("alexnet_vs_vgg").epochs_for(run, length=2)
        """
        if run.name == "ci":
            return 1
        return max(1, round(self.epochs * length * run.epoch_scale))

    def dataset(self, run: RunProfile) -> Dataset:
        """The data this comparison trains on (shapes10, 16x16 where ``downsample`` says so).

        Example::

            get("resnet20_vs_plain20").dataset(run).input_shape   # (16, 16, 3)
        """
        from workshop_utils.data import load_dataset

        dataset = load_dataset() if self.data is None else self.data(run)
        return dataset.downsampled(self.downsample) if self.downsample > 1 else dataset

    def build(self, name: str, dataset: Dataset, seed: int = 0) -> keras.Model:
        """Model ``name``, built right after seeding Keras with ``seed`` (the reference runs' initial weights).

        Example::

            get("alexnet_vs_vgg").build("vgg_style", dataset)
        """
        if name not in self.models:
            raise ValueError(f"{self.name} has no model {name!r}; its models are {list(self.models)}.")
        keras.utils.set_random_seed(seed)
        return self.models[name](dataset.input_shape, dataset.num_classes)

    def comparison(self, run: RunProfile, seed: int = 0, length: float = 1.0) -> Comparison:
        """A live :class:`~workshop_utils.comparison.Comparison` of this experiment in ``run``'s profile.

        Example::

            comparison = get("alexnet_vs_vgg").comparison(run)
        """
        from workshop_utils.comparison import Comparison

        return Comparison(self, run, seed=seed, length=length)


# --- the models, as the notebooks build them ------------------------------------------------------------------

def alexnet_style(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    """Notebook 02's AlexNet-style net: the reference AlexNet with small widths, 7x7 and 5x5 early kernels, BN.

    Example::

        alexnet_style((32, 32, 3), 10).count_params()   # 82,690
    """
    from workshop_utils.architectures.alexnet import alexnet

    return alexnet(input_shape=input_shape, classes=classes, filters=(8, 16, 32, 32, 32), kernel_sizes=(7, 5, 3, 3, 3),
                   first_stride=1, first_padding="same", fc_units=128, dropout=0.0, batch_norm=True,
                   name="alexnet_style")


def vgg_style(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    """Notebook 02's VGG-style net: blocks of 3x3 conv-BN-ReLU + 2x2 max pool, then FC 128-128 and the classifier.

    Example::

        vgg_style((32, 32, 3), 10).count_params()   # 86,242
    """
    from workshop_utils.architectures.alexnet import conv_block, dense_block

    inputs = keras.Input(input_shape, name="image")
    x = inputs
    for index, (filters, convs) in enumerate(((8, 3), (16, 2), (24, 3)), start=1):
        for conv in range(1, convs + 1):
            x = conv_block(x, filters, 3, batch_norm=True, name=f"block{index}_conv{conv}")
        x = layers.MaxPooling2D(2, strides=2, name=f"block{index}_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = dense_block(x, 128, 0.0, "fc1")
    x = dense_block(x, 128, 0.0, "fc2")
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="vgg_style")


def _conv_bn_relu(x: Any, filters: int, kernel_size: int, name: str) -> Any:
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _inception_stem(inputs: Any) -> Any:
    """Notebook 03's stem: conv-BN-ReLU + 3x3/2 max pool, twice (24, 48 filters): 32x32 -> 8x8."""
    x = inputs
    for index, filters in enumerate((24, 48), start=1):
        x = _conv_bn_relu(x, filters, 3, name=f"stem{index}")
        x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"stem{index}_pool")(x)
    return x


def _softmax_head(x: Any, classes: int) -> Any:
    return layers.Dense(classes, activation="softmax", name="predictions")(layers.GlobalAveragePooling2D()(x))


def small_inception_net(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    """Notebook 03's small Inception net: the stem, two Inception modules (BN after each), GAP + softmax.

    Example::

        small_inception_net((32, 32, 3), 10).count_params()   # 96,274
    """
    from workshop_utils.architectures.inception import inception_module

    inputs = keras.Input(input_shape)
    x = _inception_stem(inputs)
    for index, widths in enumerate(((32, 48, 64, 8, 16, 16), (48, 48, 64, 8, 16, 16))):
        block = f"inception_4{'ab'[index]}"
        x = layers.BatchNormalization(name=f"{block}_bn")(inception_module(x, *widths, name=block))
    return keras.Model(inputs, _softmax_head(x, classes), name="small_inception")


def plain_cnn(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    """Notebook 03's plain CNN: the same stem and head, two 3x3 conv-BN-ReLU layers of 80 filters between.

    Example::

        plain_cnn((32, 32, 3), 10).count_params()   # 104,914
    """
    inputs = keras.Input(input_shape)
    x = _inception_stem(inputs)
    for index in (1, 2):
        x = _conv_bn_relu(x, 80, 3, name=f"block4_{index}")
    return keras.Model(inputs, _softmax_head(x, classes), name="plain_cnn")


#: Notebook 04's small MobileNet-like layout for 32x32 images: (filters, stride) per block after the stem.
MOBILE_BLOCKS_32: tuple[tuple[int, int], ...] = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1))


def mobile_net_32(separable: bool, alpha: float = 1.0, name: str = "net") -> Builder:
    """Notebook 04's experiment nets: a stride-2 conv stem, then :data:`MOBILE_BLOCKS_32` as depthwise separable
    blocks (``separable=True``) or full 3x3 conv-BN-ReLU layers, GAP, softmax; widths times ``alpha``.

    Example::

        mobile_net_32(True)((32, 32, 3), 10).count_params()   # 38,634
    """
    from workshop_utils.architectures.mobilenet import conv_bn_relu, depthwise_separable_block

    def build(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
        inputs = keras.Input(input_shape)
        x = conv_bn_relu(inputs, int(16 * alpha), strides=2)
        for index, (filters, strides) in enumerate(MOBILE_BLOCKS_32, start=1):
            width = int(filters * alpha)
            x = (depthwise_separable_block(x, width, strides, block_id=index) if separable
                 else conv_bn_relu(x, width, strides=strides, name=f"conv_{index}"))
        x = layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x), name=name)

    return build


#: Width of the standard net narrowed to the separable twin's cost: at 32x32, 1,085,942 MACs and 38,382
#: parameters against the twin's 1,149,184 and 38,634 (0.94x and 0.99x).
EQUAL_MACS_ALPHA = 0.37


def _shufflenet_small(shuffle: bool) -> Builder:
    def build(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
        from workshop_utils.architectures.shufflenet import shufflenet_v1

        return shufflenet_v1(input_shape=input_shape, classes=classes, groups=8, channels=(96, 192, 384),
                             stage_repeats=(2, 2, 2), stem_strides=1, stem_pool=False, group_conv="split",
                             shuffle=shuffle, name="with_shuffle" if shuffle else "without_shuffle")

    return build


def cifar_resnet(depth: int, shortcut: str) -> Builder:
    """Notebook 07's CIFAR-style nets (16-32-64 filters, 6n+2 layers): ``shortcut="identity_pad"`` (option A: the
    same parameters as the plain twin), ``"projection"`` (option B, the exercise's block) or ``"none"`` (plain).

    Example::

        cifar_resnet(20, "identity_pad")((16, 16, 3), 10).count_params()   # 271,098
    """
    def build(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
        from workshop_utils.architectures.resnet import resnet

        return resnet(depth, stem="cifar", input_shape=input_shape, classes=classes, shortcut=shortcut)

    return build


def _variant(variant: str) -> Builder:
    def build(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
        from workshop_utils.architectures.identity_mappings import variant_resnet

        return variant_resnet(variant, input_shape, classes, blocks_per_stage=(3, 3, 3))

    return build


def _small_densenet(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    from workshop_utils.architectures.densenet import densenet

    return densenet((2, 4, 6), growth_rate=16, stem="cifar", input_shape=input_shape, classes=classes,
                    name="small_densenet")


def _small_resnet(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    from workshop_utils.architectures.resnet import resnet

    return resnet(14, stem="cifar", input_shape=input_shape, classes=classes, name="small_resnet")


EXPERIMENTS: dict[str, Experiment] = {}


def _register(experiment: Experiment) -> None:
    EXPERIMENTS[experiment.name] = experiment


_register(Experiment(
    name="alexnet_vs_vgg", notebook="02_kernel_size_alexnet_vgg",
    claim=('"a deep net with small filters outperforms a shallow net with larger filters" (Simonyan & Zisserman '
           '2015, section 4.1, ImageNet, single-scale evaluation)'),
    metric="val_accuracy", expected_order=("vgg_style", "alexnet_style"),
    models={"vgg_style": vgg_style, "alexnet_style": alexnet_style}, epochs=6))
_register(Experiment(
    name="alexnet_vs_vgg_long", notebook="02_kernel_size_alexnet_vgg",
    claim=EXPERIMENTS["alexnet_vs_vgg"].claim, metric="val_accuracy", expected_order=("vgg_style", "alexnet_style"),
    models={"vgg_style": vgg_style, "alexnet_style": alexnet_style}, epochs=12,
    scale_note="the same pair trained twice as long: where the direction depends on training length"))
_register(Experiment(
    name="inception_vs_plain", notebook="03_inception_1x1_conv",
    claim=('"a significant quality gain at a modest increase of computational requirements compared to shallower '
           'and narrower architectures" (Szegedy et al. 2015, section 9, ILSVRC 2014)'),
    metric="val_accuracy", expected_order=("small_inception", "plain_cnn"),
    models={"small_inception": small_inception_net, "plain_cnn": plain_cnn}, epochs=6))
_register(Experiment(
    name="separable_equal_macs", notebook="04_depthwise_mobilenet",
    claim=('depthwise separable convolutions buy accuracy per multiply-add: "Using depthwise separable '
           'convolutions compared to full convolutions only reduces accuracy by 1% on ImageNet", for 8.6x fewer '
           'mult-adds (Howard et al. 2017, section 4.1 and table 4: 70.6% at 569M against 71.7% at 4,866M)'),
    metric="val_accuracy", expected_order=("separable_twin", "standard_narrow"),
    models={"separable_twin": mobile_net_32(True, name="separable_twin"),
            "standard_narrow": mobile_net_32(False, EQUAL_MACS_ALPHA, name="standard_narrow")}, epochs=6))
_register(Experiment(
    name="separable_equal_layout", notebook="04_depthwise_mobilenet",
    claim=('at the same layout full convolutions are slightly more accurate: "Using depthwise separable '
           'convolutions compared to full convolutions only reduces accuracy by 1% on ImageNet" (Howard et al. '
           '2017, section 4.1 and table 4: 71.7% against 70.6% top-1)'),
    metric="val_accuracy", expected_order=("standard_cnn", "separable_twin"),
    models={"standard_cnn": mobile_net_32(False, name="standard_cnn"),
            "separable_twin": mobile_net_32(True, name="separable_twin")}, epochs=6))
_register(Experiment(
    name="shuffle_vs_no_shuffle", notebook="05_shufflenet",
    claim=('"the models with channel shuffle ... consistently outperform the counterparts", most with g = 8 '
           '(Zhang et al. 2018, table 3, ImageNet: ShuffleNet 1x g=8 top-1 error 32.4% with, 37.6% without)'),
    metric="val_accuracy", expected_order=("with_shuffle", "without_shuffle"),
    models={"with_shuffle": _shufflenet_small(True), "without_shuffle": _shufflenet_small(False)}, epochs=6,
    scale_note=("without the shuffle the groups still meet in stage 2's ungrouped first 1x1 conv, at each "
                "stride-2 concat and in the classifier: the ablation removes some mixing, not all")))
_register(Experiment(
    name="degradation", notebook="07_resnet",
    claim=('"the deeper plain network has higher training error" than the shallower one, and "the 34-layer ResNet '
           'exhibits considerably lower training error" (He et al. 2016, section 4.1; CIFAR-10 figure 6: plain-56 '
           'above plain-20, ResNet-56 below both)'),
    metric="train_loss", expected_order=("resnet56", "plain20", "plain56"),
    models={"resnet56": cifar_resnet(56, "identity_pad"), "plain20": cifar_resnet(20, "none"),
            "plain56": cifar_resnet(56, "none")}, epochs=8, downsample=2, train_samples=4000, cap_seconds=600))
_register(Experiment(
    name="resnet20_vs_plain20", notebook="07_resnet",
    claim=('at shallow depth the twins end "comparably accurate", "but the 18-layer ResNet converges faster" '
           '(He et al. 2016, section 4.1, ImageNet, table 2: 27.94% vs 27.88% top-1 error); the gap opens with '
           'depth (34 layers: 28.54% plain vs 25.03% residual)'),
    metric="val_accuracy", expected_order=("resnet20", "plain20"),
    models={"resnet20": cifar_resnet(20, "projection"), "plain20": cifar_resnet(20, "none")}, epochs=6,
    downsample=2, cap_seconds=600))
_register(Experiment(
    name="identity_vs_scaling", notebook="07_resnet",
    claim=('scaling the shortcut by 0.5 hampers training: CIFAR-10 error 6.61% with the identity, 12.35% with '
           'constant scaling 0.5 on both paths, and "fail" on the shortcut alone (He et al. 2016b, Identity '
           'Mappings, table 1, ResNet-110)'),
    metric="val_accuracy", expected_order=("original", "constant_scaling"),
    models={"original": _variant("original"), "constant_scaling": _variant("constant_scaling")}, epochs=6,
    downsample=2, cap_seconds=600,
    scale_note="a 20-layer net: the paper's 110 layers multiply the 0.5 scaling 54 times, ours 9 times"))
_register(Experiment(
    name="densenet_vs_resnet", notebook="08_densenet",
    claim=('DenseNets "require substantially fewer parameters and less computation to achieve state-of-the-art '
           'performances" (Huang et al. 2017, abstract; CIFAR-10+ table 2: DenseNet-BC k=12, 0.8M parameters, '
           '4.51% error against ResNet-110, 1.7M, 6.41%)'),
    metric="val_accuracy", expected_order=("small_densenet", "small_resnet"),
    models={"small_densenet": _small_densenet, "small_resnet": _small_resnet}, epochs=6, downsample=2,
    cap_seconds=600))


#: Notebook 09's multi-scale shapes per profile: (training images, validation split included; test images).
MULTISCALE_SIZES: dict[str, tuple[int, int]] = {"ci": (512, 256), "cpu": (4000, 1000), "gpu": (16000, 2000)}


def _multiscale_shapes(run: RunProfile) -> Dataset:
    """Notebook 09's multi-scale task (64x64, four shapes, half 6-9 px and half 28-44 px), sized by profile."""
    from workshop_utils.multiscale_shapes import load_multiscale_shapes

    return load_multiscale_shapes(*MULTISCALE_SIZES.get(run.name, MULTISCALE_SIZES["cpu"]))[0]


def _fpn_classifier(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    from workshop_utils.architectures.fpn import pyramid_classifier

    return pyramid_classifier(input_shape, classes)


def _top_level_classifier(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
    from workshop_utils.architectures.fpn import single_level_classifier

    return single_level_classifier(input_shape, classes)


_register(Experiment(
    name="fpn_vs_single_level", notebook="09_extras",
    claim=('a feature pyramid beats a single feature map, most on small objects: "Placing FPN in RPN improves AR1k '
           'to 56.3 (Table 1(c)), which is 8.0 points increase over the single-scale RPN baseline (Table 1 (a)). In '
           'addition, the performance on small objects (AR1ks) is boosted by a large margin of 12.9 points" (Lin et '
           'al. 2017, section 5.1: region proposals on COCO minival, ResNet-50 pre-trained on ImageNet; the '
           'single-scale C5 baseline, table 1(b), "shows no advantage over" the C4 one)'),
    metric="val_accuracy", expected_order=("fpn_classifier", "top_level_classifier"),
    models={"fpn_classifier": _fpn_classifier, "top_level_classifier": _top_level_classifier}, epochs=4,
    data=_multiscale_shapes,
    scale_note=("a 4-class toy on 64x64 images with a 3-stage backbone trained from scratch, not detection on "
                "COCO: the pyramid's levels are strides 4-16, its rival the stride-16 map")))


def _cross_group(shuffle: bool) -> Builder:
    def build(input_shape: tuple[int, int, int], classes: int) -> keras.Model:
        from workshop_utils.cross_group import cross_group_shufflenet

        return cross_group_shufflenet(input_shape, classes, shuffle=shuffle)

    return build


_register(Experiment(
    name="shuffle_cross_group", notebook="05_shufflenet",
    claim=('"the models with channel shuffle ... consistently outperform the counterparts", most with g = 8 '
           '(Zhang et al. 2018, table 3, ImageNet: ShuffleNet 1x g=8 top-1 error 32.4% with, 37.6% without); '
           'tested where information must cross the groups: each of 8 channel groups holds the image under its own '
           'noise, and the noise cancels only when the groups are combined'),
    metric="val_accuracy", expected_order=("with_shuffle", "without_shuffle"),
    models={"with_shuffle": _cross_group(True), "without_shuffle": _cross_group(False)}, epochs=6, downsample=2,
    scale_note=("without the shuffle the groups still meet where a stride-2 unit concatenates its pooled input "
                "(the channel blocks shift against the groups) and in the classifier after global pooling")))


def get(name: str) -> Experiment:
    """The experiment called ``name`` (see :data:`EXPERIMENTS`).

    Example::

        get("alexnet_vs_vgg")
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"no comparison called {name!r}; choose one of {', '.join(EXPERIMENTS)}.")
    return EXPERIMENTS[name]
