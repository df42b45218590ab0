"""Shapley arithmetic on games with known answers, apart from any simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import shapley


def game(k: int, value) -> np.ndarray:
    """v(S) for every bitmask S, from a function of the set of members."""
    return np.array([value({i for i in range(k) if m >> i & 1}) for m in range(1 << k)], dtype=float)


def test_additive_elements_get_their_own_effects():
    effects = [0.05, -0.02, 0.10]
    v = game(3, lambda s: 0.5 + sum(effects[i] for i in s))
    assert shapley.exact(v) == pytest.approx(effects, abs=1e-15)
    pairs, joint = shapley.interactions(v)
    assert pairs == [(0, 1), (0, 2), (1, 2)]
    assert joint == pytest.approx([0, 0, 0], abs=1e-15)


def test_elements_that_only_work_together_split_the_joint_effect_equally():
    v = game(2, lambda s: 0.3 if s == {0, 1} else 0.0)
    assert shapley.exact(v).tolist() == [0.15, 0.15]
    assert shapley.interactions(v)[1].tolist() == [0.3]


def test_the_module_docstring_example():
    v = np.array([0.50, 0.55, 0.60, 0.80])     # none, no bounce-back, leading group, both
    assert shapley.exact(v) == pytest.approx([0.125, 0.175])
    assert shapley.interactions(v)[1] == pytest.approx([0.15])


def test_an_element_that_changes_nothing_gets_zero_and_every_marginal_effect_is_zero():
    v = game(3, lambda s: 1.0 + 2.0 * (0 in s) + 3.0 * (0 in s and 2 in s))
    phi = shapley.exact(v)
    assert phi[1] == 0 and (shapley.marginals(v, 1) == 0).all()
    assert phi[0] == pytest.approx(2 + 1.5) and phi[2] == pytest.approx(1.5)


def test_further_axes_are_carried_along():
    v = np.stack([game(3, lambda s, r=r: r * len(s) + (r + 1) * (s == {0, 1, 2})) for r in range(4)], axis=1)
    phi = shapley.exact(v)
    assert phi.shape == (3, 4)
    for r in range(4):
        assert phi[:, r] == pytest.approx(shapley.exact(v[:, r]))


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_efficiency_and_symmetry_on_random_games(k, seed):
    v = np.random.default_rng(seed).normal(size=1 << k)
    phi = shapley.exact(v)
    shapley.check_efficiency(phi, np.asarray(v[-1] - v[0]), float(np.abs(v).max()))
    assert phi.sum() == pytest.approx(v[-1] - v[0], abs=1e-12)
    swapped = v.copy()                            # exchange elements 0 and 1: values follow
    if k >= 2:
        masks = np.arange(1 << k)
        b0, b1 = masks & 1, (masks >> 1) & 1
        swapped = v[(masks & ~3) | (b0 << 1) | b1]
        assert shapley.exact(swapped)[[1, 0]] == pytest.approx(phi[:2], abs=1e-12)


def test_check_efficiency_fails_when_values_miss_the_total():
    with pytest.raises(AssertionError, match="miss the total"):
        shapley.check_efficiency(np.array([[0.1], [0.2]]), np.array([0.3 + 1e-6]), 1.0)
    shapley.check_efficiency(np.array([[0.1], [np.nan]]), np.array([0.3]), 1.0)   # undefined: skipped


def test_antithetic_orders_pair_each_order_with_its_reverse():
    orders = shapley.antithetic_orders(5, 4, seed=3)
    assert orders.shape == (8, 5)
    for forward, backward in zip(orders[::2], orders[1::2]):
        assert sorted(forward) == list(range(5)) and backward.tolist() == forward[::-1].tolist()
    assert (orders == shapley.antithetic_orders(5, 4, seed=3)).all()
    assert shapley.prefixes(np.array([[2, 0, 1]])) == [0, 0b100, 0b101, 0b111]


def test_sampled_orders_sum_to_the_total_and_are_exact_on_an_additive_game():
    effects = np.arange(12) / 10
    v = game(12, lambda s: sum(effects[i] for i in s))
    orders = shapley.antithetic_orders(12, 3, seed=1)
    values = {m: v[m] for m in shapley.prefixes(orders)}
    marginal = shapley.sampled(values, orders)
    assert marginal.shape == (6, 12)
    assert marginal.sum(axis=1) == pytest.approx(np.full(6, v[-1] - v[0]))
    assert marginal.mean(axis=0) == pytest.approx(effects)


def test_sampled_estimate_is_near_the_exact_values_of_a_game_with_interactions():
    rng = np.random.default_rng(5)
    weights = rng.normal(size=(6, 6))
    v = game(6, lambda s: sum(weights[i, j] for i in s for j in s if i <= j))
    orders = shapley.antithetic_orders(6, 400, seed=2)
    estimate = shapley.sampled({m: v[m] for m in range(64)}, orders).mean(axis=0)
    assert estimate == pytest.approx(shapley.exact(v), abs=0.15)
