"""Shapley values of a reform's elements, from a table of what every combination of them gives.

A reform of two elements, say "no bounce-back" and "a leading group at the top", raises the
resolved share from 0.50 to 0.80. Alone, no bounce-back gives 0.55 and the leading group
0.60: adding each alone to the old process claims +0.05 and +0.10, which sum to 0.15, not
0.30; removing each alone from the new process claims +0.20 and +0.25, which sum to 0.45.
Neither is a decomposition. The Shapley value averages an element's marginal effect over
every order in which the elements could be added: no bounce-back gets (0.05 + 0.20) / 2 =
0.125, the leading group (0.10 + 0.25) / 2 = 0.175, and they sum to the whole +0.30. The
+0.15 they make only together (the interaction) is split equally between them.

A game is an array whose first axis is indexed by the combination's bitmask (bit i set when
element i is in); any further axes (replications, KPIs) are carried along, so one call gives
the values of every KPI in every replication. Nothing here runs a simulation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

EFFICIENCY_TOL = 1e-9
"""The elements must sum to the total within this, relative to the game's largest value (at least 1)."""


def elements_of(size: int) -> int:
    """The number of elements of a game of ``size`` combinations (a power of two)."""
    k = size.bit_length() - 1
    if size < 2 or 1 << k != size:
        raise ValueError(f"a game has 2^k combinations, not {size}")
    return k


def _sizes(k: int) -> np.ndarray:
    return np.array([bin(m).count("1") for m in range(1 << k)])


def exact(values: np.ndarray) -> np.ndarray:
    """The Shapley value of each element: shape ``(k, *values.shape[1:])``."""
    k = elements_of(len(values))
    sizes, masks = _sizes(k), np.arange(1 << k)
    weights = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
                        for s in range(k)])
    out = []
    for i in range(k):
        without = masks[(masks >> i) & 1 == 0]
        gain = values[without | (1 << i)] - values[without]
        out.append(np.tensordot(weights[sizes[without]], gain, axes=(0, 0)))
    return np.stack(out)


def interactions(values: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The pairwise Shapley interaction index (Grabisch 1997) of every pair i < j: positive
    when the two do more together than the sum of what each adds, averaged over the others."""
    k = elements_of(len(values))
    sizes, masks = _sizes(k), np.arange(1 << k)
    weights = np.array([math.factorial(s) * math.factorial(k - s - 2) / math.factorial(k - 1)
                        for s in range(max(k - 1, 0))])
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    out = []
    for i, j in pairs:
        rest = masks[((masks >> i) & 1 == 0) & ((masks >> j) & 1 == 0)]
        a, b = 1 << i, 1 << j
        joint = values[rest | a | b] - values[rest | a] - values[rest | b] + values[rest]
        out.append(np.tensordot(weights[sizes[rest]], joint, axes=(0, 0)))
    shape = (0, *values.shape[1:])
    return pairs, np.stack(out) if out else np.zeros(shape)


def marginals(values: np.ndarray, i: int) -> np.ndarray:
    """Every marginal effect of element i: v(S + i) - v(S) for each S without i."""
    masks = np.arange(len(values))
    without = masks[(masks >> i) & 1 == 0]
    return values[without | (1 << i)] - values[without]


# --------------------------------------------------------------------------- sampled
def antithetic_orders(k: int, pairs: int, seed: int) -> np.ndarray:
    """``2 * pairs`` orders of the k elements: each random order followed by its reverse.

    An element early in one order is late in its reverse, so the two marginal effects lean
    opposite ways and their mean varies less than two independent orders' (antithetic
    sampling, as in Mitchell et al., JMLR 2022)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    forward = np.array([rng.permutation(k) for _ in range(pairs)], dtype=np.int64).reshape(pairs, k)
    return np.stack([forward, forward[:, ::-1]], axis=1).reshape(2 * pairs, k)


def prefixes(orders: np.ndarray) -> list[int]:
    """The combinations the orders pass through (each order's prefixes), sorted."""
    found = {0}
    for order in orders:
        mask = 0
        for i in order:
            mask |= 1 << int(i)
            found.add(mask)
    return sorted(found)


def sampled(values: Mapping[int, np.ndarray], orders: np.ndarray) -> np.ndarray:
    """Each order's marginal effects, shape ``(orders, k, ...)``: their mean over orders
    estimates the Shapley values, and each order's effects sum exactly to the total."""
    out = []
    for order in orders:
        mask, row = 0, [np.empty(0)] * len(order)
        for i in order:
            after = mask | (1 << int(i))
            row[int(i)] = values[after] - values[mask]
            mask = after
        out.append(np.stack(row))
    return np.stack(out)


def check_efficiency(shares: np.ndarray, total: np.ndarray, scale: np.ndarray | float) -> None:
    """The elements' values sum to the total in every replication (where both are defined);
    ``scale`` is the game's largest value, per KPI (the last axis) or overall."""
    gap = np.abs(shares.sum(axis=0) - total)
    tol = EFFICIENCY_TOL * np.maximum(1.0, scale)
    bad = np.isfinite(gap) & (gap > tol)
    if bad.any():
        raise AssertionError(f"Shapley values miss the total by {float(gap[bad].max()):.3g} "
                             f"(allowed {float(np.broadcast_to(tol, gap.shape)[bad].max()):.3g})")
