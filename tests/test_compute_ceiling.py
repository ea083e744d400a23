"""The compute ceiling: each benchmark runs and reports a plausible speed; the ceiling is the better of the two."""

from __future__ import annotations

import itertools

import pytest

from workshop_utils import compute_ceiling


def test_matmul_and_conv_ceilings_are_plausible_speeds():
    # Any machine that runs the workshop does more than 0.01 and less than 10^6 GFLOP/s (a petaflop).
    assert 0.01 < compute_ceiling.matmul_ceiling_gflops(size=128, repeats=2) < 1e6
    assert 0.01 < compute_ceiling.conv_ceiling_gflops(batch=1, size=8, channels=16, repeats=2) < 1e6


def test_ceilings_divide_the_exact_flop_counts_by_the_best_time(monkeypatch):
    # A clock that advances 0.25 s a reading: every timed product takes exactly 0.25 s, so the GFLOP/s are the FLOP
    # count / 0.25, and the FLOP formulas (2 n^3 for a matmul, 2 B H W C_in C_out 9 for a 3x3 conv) are checked exactly.
    ticks = itertools.count()
    monkeypatch.setattr(compute_ceiling.time, "perf_counter", lambda: 0.25 * next(ticks))
    assert compute_ceiling.matmul_ceiling_gflops(size=128, repeats=3) == 2 * 128**3 / 0.25 / 1e9
    assert compute_ceiling.conv_ceiling_gflops(batch=1, size=8, channels=16, repeats=3) == (
        2 * 1 * 8 * 8 * 16 * 16 * 9 / 0.25 / 1e9)


def test_compute_ceiling_is_the_better_of_matmul_and_conv(monkeypatch):
    monkeypatch.setattr(compute_ceiling, "matmul_ceiling_gflops", lambda repeats: 200.0)
    monkeypatch.setattr(compute_ceiling, "conv_ceiling_gflops", lambda repeats: 225.0)
    assert compute_ceiling.compute_ceiling_gflops() == 225.0
    monkeypatch.setattr(compute_ceiling, "conv_ceiling_gflops", lambda repeats: 150.0)
    assert compute_ceiling.compute_ceiling_gflops() == 200.0


@pytest.mark.parametrize("kwargs", [dict(size=0), dict(repeats=0), dict(size=2.5)])
def test_bad_sizes_are_refused(kwargs):
    with pytest.raises(ValueError, match="must be an integer >= 1"):
        compute_ceiling.matmul_ceiling_gflops(**kwargs)
