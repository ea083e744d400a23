"""The plumbing every exercise checker shares: one copy of each step, so a checker module holds only its hints.

A checker that tests a Keras block does the same five things in the same order:

1. :func:`checker` -- the preamble: refuse a non-function with a ``TypeError`` that shows the call, run the body
   under :func:`~workshop_utils.exercises.run_check` (a :class:`~workshop_utils.exercises.Hint` becomes "Not
   yet: ...", the untouched stub "not written yet").
2. :func:`build` -- build the attendee's function on a ``keras.Input`` into a model, or stop with a hint (the
   error it raised, explained by the checker's ``explain``; not a tensor returned; not computed from the input).
3. :func:`read_graph` -- the model's operations in order, each with a short ``kind`` (``"conv"``, ``"bn"``,
   ``"relu"``, ``"add"``, ``"concat"``, ...), a ``label`` that also says the kernel and any activation inside
   the conv (``"conv3x3+relu"``) and the operations it reads; :func:`chain` follows single inputs back.
4. :func:`copy_weights` -- put the attendee's weights into the reference (from
   :mod:`workshop_utils.architectures`, the one copy), layer for layer by role, after
   :func:`randomise_batch_norm` so that a batch norm in the wrong place shows in the numbers.
5. :func:`outputs` and :func:`close` -- run both on the same random images and compare.

Example::

    @checker("my_block")
    def check_my_block(my_block, seed=0) -> str:
        model = build(my_block, (8, 8, 3), 16, call="my_block(x, 16) on an 8x8x3 input")
        graph = read_graph(model)
        if not graph.of_kind("bn"):
            raise Hint("...", mistake="missing_bn")
        return "your block matches the reference."     # shown as "Passed: your block matches the reference."
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec

import numpy as np

from workshop_utils.exercises import CheckResult, Hint, run_check

__all__ = [
    "Graph", "Op", "build", "chain", "checker", "close", "copy_weights", "labels", "op_kind", "outputs",
    "randomise_batch_norm", "read_graph", "shapes_in",
]

P = ParamSpec("P")


# ---------------------------------------------------------------------------------------------------------------
# 1. The preamble


def checker(example: str, not_written: str | None = None) -> Callable[[Callable[P, str]], Callable[P, CheckResult]]:
    """Decorator for a checker whose first argument is the attendee's function and whose body returns the pass line.

    The decorated checker refuses a first argument that is not callable (``TypeError: check_x needs your function,
    e.g. check_x(example); got str.``) and runs the body under :func:`~workshop_utils.exercises.run_check`, so it
    returns a :class:`~workshop_utils.exercises.CheckResult`. ``not_written`` replaces the generic text for the
    untouched stub (``raise NotImplementedError``), for an exercise that says what to write.

    Example::

        @checker("conv2d")
        def check_conv2d(fn, seed=None) -> str: ...
    """

    def decorate(body: Callable[P, str]) -> Callable[P, CheckResult]:
        first = next(iter(inspect.signature(body).parameters))

        @functools.wraps(body)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> CheckResult:
            function = args[0] if args else kwargs.get(first)
            if not callable(function):
                raise TypeError(f"{body.__name__} needs your function, e.g. {body.__name__}({example}); got "
                                f"{type(function).__name__}.")
            return run_check(lambda: body(*args, **kwargs), not_written=not_written)

        wrapper.__signature__ = inspect.signature(body).replace(  # type: ignore[attr-defined]
            return_annotation="CheckResult")
        return wrapper

    return decorate


# ---------------------------------------------------------------------------------------------------------------
# 2. Build or hint

_SHAPE = re.compile(r"\((?:None|\d+)(?:, (?:None|\d+))+\)")


def shapes_in(message: str, rank: int = 4) -> list[tuple[int | None, ...]]:
    """The tensor shapes of ``rank`` axes quoted in a Keras error message, in order.

    Example::

        shapes_in("... shapes (None, 8, 8, 3) and (None, 6, 6, 4)")   # [(None, 8, 8, 3), (None, 6, 6, 4)]
    """
    shapes = [tuple(None if part == "None" else int(part) for part in match[1:-1].split(", "))
              for match in _SHAPE.findall(message)]
    return [shape for shape in shapes if len(shape) == rank]


def build(function: Callable[..., Any], input_shape: Sequence[int], *args: Any, call: str = "Your function",
          returns: str = "the output tensor", explain: Callable[[Exception], Hint] | None = None, case: Any = None,
          **kwargs: Any) -> Any:
    """``function(keras.Input(input_shape), *args, **kwargs)`` as a ``keras.Model``, or a :class:`Hint` saying why not.

    Args:
        function: the attendee's function.
        input_shape: (height, width, channels) of the input.
        call: how it was called, for the default hint (``"dense_block(x, 3, 8) on a 6x6x8 input"``).
        returns: what the function should return, for the hint when it returns something else.
        explain: turns an exception from the attendee's code into a hint; default: "``call`` raised ...".
        case: the case the hints report.

    ``NotImplementedError`` (the untouched stub) passes through, for :func:`checker` to report.

    Example::

        model = build(residual_block, (8, 8, 16), 32, 2, call="residual_block(x, 32, 2)")
    """
    import keras

    inputs = keras.Input(tuple(input_shape))
    try:
        result = function(inputs, *args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:  # every failure of the attendee's code becomes a hint, never a traceback
        hint = explain(error) if explain else Hint(f"{call} raised {type(error).__name__}: {str(error)[:300]}",
                                                   mistake="error")
        raise Hint(hint.message, hint.mistake, hint.case if hint.case is not None else case) from None
    if not isinstance(result, keras.KerasTensor):
        raise Hint(f"Return {returns}; your function returned {type(result).__name__}.", mistake="not_a_tensor",
                   case=case)
    try:
        return keras.Model(inputs, result)
    except Exception as error:  # noqa: BLE001 -- e.g. an output built from another keras.Input
        raise Hint(f"The output is not computed from the input x (Keras said: {str(error)[:200]}).",
                   mistake="not_connected", case=case) from None


# ---------------------------------------------------------------------------------------------------------------
# 3. The graph, in order, with op kinds

_CONVS = {"Conv2D": "conv", "DepthwiseConv2D": "depthwise", "SeparableConv2D": "separable"}
_KINDS = {"InputLayer": "input", "BatchNormalization": "bn", "Add": "add", "Concatenate": "concat",
          "MaxPooling2D": "maxpool", "AveragePooling2D": "avgpool", "Relu": "relu", "Relu6": "relu"}


def _activation_name(operation: Any) -> str:
    return getattr(getattr(operation, "activation", None), "__name__", "linear")


def op_kind(operation: Any) -> str:
    """What an operation of a Keras graph does, in one short word.

    ``"input"``, ``"conv"`` (``Conv2D``), ``"depthwise"``, ``"separable"``, ``"bn"``, ``"relu"`` (``ReLU()``,
    ``ReLU(6.0)``, ``Activation("relu")``, ``keras.ops.relu``), ``"add"`` (``Add()`` or ``a + b``), ``"concat"``
    (``Concatenate`` or ``keras.ops.concatenate``), ``"maxpool"``, ``"avgpool"``; an ``Activation`` layer is named
    by its function (``"sigmoid"``), a leaky or thresholded ReLU is ``"leaky_relu"``; anything else is its class
    name in lower case (``"zeropadding2d"``).

    Example::

        op_kind(keras.layers.Activation("relu"))   # "relu"
    """
    import keras

    name = type(operation).__name__
    if name in _CONVS:
        return _CONVS[name]
    if name == "ReLU":
        return "leaky_relu" if operation.negative_slope or operation.threshold else "relu"
    if name == "Activation":
        activation = _activation_name(operation)
        return "relu" if activation in ("relu", "relu6") else activation
    if isinstance(operation, keras.layers.Conv2D):  # a subclass of Conv2D
        return "conv"
    return _KINDS.get(name, name.lower())


@dataclass(eq=False)
class Op:
    """One operation of the attendee's graph.

    Attributes:
        layer: the layer (or ``keras.ops`` operation, or the input layer).
        kind: :func:`op_kind` of it.
        parents: the operations whose outputs it reads, in argument order.
    """

    layer: Any
    kind: str
    parents: list[Op] = field(default_factory=list)

    @property
    def activation(self) -> str:
        """The activation a conv applies itself (``Conv2D(activation="relu")``): ``"relu"``; ``""`` for none."""
        if self.kind not in _CONVS.values():
            return ""
        name = _activation_name(self.layer)
        return "" if name == "linear" else name

    @property
    def kernel(self) -> tuple[int, ...]:
        """The kernel's shape, (height, width, in, out) for a conv; ``()`` for an operation without one."""
        kernel = getattr(self.layer, "kernel", None)
        return () if kernel is None else tuple(int(d) for d in kernel.shape)

    @property
    def label(self) -> str:
        """The kind with a conv's kernel size and own activation (``"conv3x3+relu"``, ``"depthwise3x3"``)."""
        if self.kind not in _CONVS.values():
            return self.kind
        size = tuple(self.layer.kernel_size)
        return f"{self.kind}{size[0]}x{size[1]}" + (f"+{self.activation}" if self.activation else "")

    @property
    def name(self) -> str:
        return str(getattr(self.layer, "name", self.kind))


@dataclass(frozen=True)
class Graph:
    """A model's operations in dependency order (the input first), and the one that gives the output.

    Example::

        graph = read_graph(model); labels(chain(graph.output))   # ['relu', 'add']
    """

    ops: list[Op]
    output: Op

    def of_kind(self, *kinds: str) -> list[Op]:
        """The operations of these kinds, in order."""
        return [op for op in self.ops if op.kind in kinds]

    def layers(self, *kinds: str) -> list[Any]:
        """The layers of these kinds, in order."""
        return [op.layer for op in self.of_kind(*kinds)]

    def children(self, op: Op) -> list[Op]:
        """The operations that read ``op``'s output."""
        return [other for other in self.ops if any(parent is op for parent in other.parents)]

    def kinds(self) -> list[str]:
        return [op.kind for op in self.ops if op.kind != "input"]


def read_graph(model: Any) -> Graph:
    """The operations of a functional ``model`` (layers and ``keras.ops`` calls alike) as a :class:`Graph`.

    Only what lies on the way from the input to the output is in it: a layer whose result is not used is not.

    Example::

        [op.label for op in read_graph(model).ops]   # ['input', 'conv3x3', 'bn', 'relu', ...]
    """
    from workshop_utils._keras_internals import graph_nodes, source_layer

    producers: dict[int, Op] = {}
    ops: list[Op] = []
    for tensor in model.inputs:
        ops.append(Op(source_layer(tensor), "input"))
        producers[id(tensor)] = ops[-1]
    for node in graph_nodes(model):
        op = Op(node.operation, op_kind(node.operation), [producers[id(t)] for t in node.input_tensors])
        ops.append(op)
        for tensor in node.outputs:
            producers[id(tensor)] = op
    return Graph(ops, producers[id(model.outputs[0])])


def chain(op: Op) -> list[Op]:
    """``op`` and the operations before it, following single inputs back; the last one is the input or a join.

    Example::

        labels(chain(graph.output))   # ['relu', 'add']: the add reads two tensors
    """
    ops = [op]
    while len(ops[-1].parents) == 1:
        ops.append(ops[-1].parents[0])
    return ops


def labels(ops: Iterable[Op]) -> list[str]:
    """Each operation's :attr:`Op.label`: the op ordering a hint quotes (``"bn <- conv3x3 <- input"``)."""
    return [op.label for op in ops]


# ---------------------------------------------------------------------------------------------------------------
# 4. Weights by role


def randomise_batch_norm(layers: Iterable[Any], rng: np.random.Generator) -> None:
    """Give batch-norm layers random statistics (a fresh one is the identity at inference, and hides its place).

    gamma and the variance from [0.5, 1.5], beta and the mean from N(0, 0.5^2).
    """
    for layer in layers:
        gamma, beta, mean, variance = (np.asarray(w) for w in layer.get_weights())
        layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                           rng.normal(0, 0.5, beta.shape).astype("float32"),
                           rng.normal(0, 0.5, mean.shape).astype("float32"),
                           rng.uniform(0.5, 1.5, variance.shape).astype("float32")])


def copy_weights(source: Mapping[Any, Any] | Sequence[Any], target: Mapping[Any, Any] | Sequence[Any]) -> None:
    """Copy each role's weights from the attendee's layer (``source``) to the reference's (``target``).

    Roles are the keys of two mappings, or positions in two lists. A conv without a bias gives zeros to a
    reference conv with one; a batch norm's epsilon goes with its weights (compare like with like). Raises a
    :class:`Hint` if a layer's weights do not fit the reference's.

    Example::

        copy_weights({"squeeze": their_conv}, {"squeeze": reference.get_layer("fire2_squeeze1x1")})
    """
    source_roles = source if isinstance(source, Mapping) else dict(enumerate(source))
    target_roles = target if isinstance(target, Mapping) else dict(enumerate(target))
    for role, mine in source_roles.items():
        theirs = target_roles[role]
        weights = [np.asarray(w) for w in mine.get_weights()]
        wanted = [tuple(w.shape) for w in theirs.get_weights()]
        if len(weights) == 1 and len(wanted) == 2 and op_kind(mine) in _CONVS.values():
            weights.append(np.zeros(wanted[1], "float32"))
        if [tuple(w.shape) for w in weights] != wanted:
            raise Hint(f"Your layer {mine.name} holds weights of shapes {[w.shape for w in mine.get_weights()]}; "
                       f"the reference's layer in that place holds {wanted}.", mistake="structure")
        theirs.set_weights(weights)
        if op_kind(mine) == "bn":
            theirs.epsilon = mine.epsilon


# ---------------------------------------------------------------------------------------------------------------
# 5. Outputs


def outputs(model: Any, images: np.ndarray, training: bool = False) -> np.ndarray:
    """``model(images)`` as a NumPy array (``np.asarray`` fails on torch tensors; this works on every backend)."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(model(images, training=training)))


def close(got: np.ndarray, want: np.ndarray, tolerance: float = 1e-4) -> bool:
    """Same shape, and every value within ``tolerance`` times the largest reference value (float32 rounding).

    Example::

        close(outputs(model, images), outputs(reference, images))
    """
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return False
    return bool(np.all(np.abs(got - want) <= tolerance * (float(np.abs(want).max(initial=0.0)) + 1e-6)))
