"""MSER-5 on series whose warm-up is known."""

from __future__ import annotations

import numpy as np
import pytest

from sim.warmup import mser


def noise(n: int, sd: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sd, n)


def test_finds_the_end_of_a_step():
    series = np.r_[np.full(50, 5.0), np.zeros(450)] + noise(500, 0.5)
    assert mser(series) == 50


def test_finds_the_end_of_a_decaying_start():
    series = np.r_[np.linspace(10.0, 0.0, 100), np.zeros(300)] + noise(400, 0.2)
    assert 85 <= mser(series) <= 110


def test_cuts_nothing_from_a_stationary_series():
    series = np.r_[3.0 + noise(300, 0.01)]
    assert mser(series) <= 10


def test_exact_batches_on_a_tiny_series():
    # batch means 9, 1, 1, 1, 1, 1: cutting the first batch leaves a zero variance
    series = np.r_[np.full(5, 9.0), np.ones(25)]
    assert mser(series) == 5


def test_never_cuts_more_than_half():
    series = np.linspace(100.0, 0.0, 200)  # never settles
    assert mser(series) == 100


def test_days_without_a_value_take_their_neighbours():
    series = np.r_[np.full(20, 4.0), np.zeros(80)]
    series[[3, 40]] = np.nan
    assert mser(series) == 20


def test_too_short():
    with pytest.raises(ValueError, match="too few"):
        mser(np.ones(7))
