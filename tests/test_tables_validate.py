"""The shared table formatter and argument checks: alignment, formats, and the errors bad input gets."""

import numpy as np
import pytest

from workshop_utils import _validate
from workshop_utils.tables import text_table


def test_text_table_aligns_numbers_right_and_text_left():
    table = text_table(["model", "params", "val."], [["ResNet-20", 272_474, 0.903], ["plain", 9, 0.8]],
                       formats={"val.": ".1%"})
    lines = table.splitlines()
    assert lines[0] == "model       params   val."
    assert lines[2] == "ResNet-20  272,474  90.3%"
    assert lines[3] == "plain            9  80.0%"
    assert set(lines[1]) == {"-", " "}


def test_text_table_prints_none_as_dash_and_adds_the_footnote():
    table = text_table(["a", "b"], [["x", None]], footnote="* quoted")
    assert table.splitlines()[2].split() == ["x", "-"]
    assert table.endswith("* quoted")


def test_text_table_refuses_ragged_rows_and_unknown_formats():
    with pytest.raises(ValueError, match="row 0 has 1 cells, the header 2"):
        text_table(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="not in the header"):
        text_table(["a"], [[1]], formats={"b": ","})


def test_positive_int_accepts_numpy_ints_and_refuses_bools_floats_and_small_values():
    assert _validate.positive_int("steps", np.int64(3)) == 3
    assert type(_validate.positive_int("steps", np.int64(3))) is int
    for bad in (True, 2.0, 0, -1, "3"):
        with pytest.raises(ValueError, match="steps must be an integer >= 1"):
            _validate.positive_int("steps", bad)
    assert _validate.positive_int("padding", 0, minimum=0) == 0


def test_choice_and_fraction_name_what_is_allowed():
    assert _validate.choice("method", "rk4", ("euler", "rk4")) == "rk4"
    with pytest.raises(ValueError, match="'euler', 'rk4'; got 'midpoint'"):
        _validate.choice("method", "midpoint", ("euler", "rk4"))
    assert _validate.fraction("sparsity", 0.5) == 0.5
    with pytest.raises(ValueError, match=r"compression must be a number in \(0, 1\]"):
        _validate.fraction("compression", 0, low_open=True)
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        _validate.fraction("sparsity", 1.0, high_open=True)
