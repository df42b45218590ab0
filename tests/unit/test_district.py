"""The district's layout: even spreads, populations, branch and guided grids from the seed."""

from __future__ import annotations

import time

import numpy as np
import pytest
from kit import SCENARIOS, tiny

from sim.config import load_scenario
from sim.district import build_district, spread


def test_spread_is_as_even_as_possible_first_owners_larger():
    assert spread(10, 3).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert spread(4, 4).tolist() == [0, 1, 2, 3]


@pytest.fixture(scope="module")
def shibei():
    return load_scenario(SCENARIOS / "shibei-2020-whistle.yaml")


def test_shibei_layout_builds_fast_and_nests(shibei):
    started = time.perf_counter()
    d = build_district(shibei)
    assert time.perf_counter() - started < 1.0
    assert (d.streets, d.communities, d.grids, d.departments) == (22, 137, 1064, 29)
    per_street = np.bincount(d.street_of_community)
    per_community = np.bincount(d.community_of_grid)
    assert per_street.max() - per_street.min() <= 1 and per_street.sum() == 137
    assert per_community.max() - per_community.min() <= 1 and per_community.sum() == 1064
    assert (d.street_of_grid == d.street_of_community[d.community_of_grid]).all()


def test_population_sums_to_total_with_the_given_spread(shibei):
    d = build_district(shibei)
    assert d.population.sum() == pytest.approx(1_100_000)
    assert d.population.std() / d.population.mean() == pytest.approx(0.3, rel=0.15)
    flat = build_district(shibei.with_overrides({"district.population_cv": 0}))
    assert np.allclose(flat.population, 1_100_000 / 1064)


def test_branch_and_guided_grids(shibei):
    d = build_district(shibei)
    assert d.branch.sum() == 940
    assert d.guided.sum() == min(940, 300 * 3)
    assert not (d.guided & ~d.branch).any()


def test_pilot_branches_are_among_the_rollout_branches(shibei):
    rollout = build_district(shibei)
    pilot = build_district(shibei.with_overrides({"process.grid_branches": 27, "process.guides": 16}))
    assert pilot.branch.sum() == 27 and pilot.guided.sum() == 27
    assert not (pilot.branch & ~rollout.branch).any()


def test_layout_depends_on_the_seed_only(shibei):
    a, b = build_district(shibei), build_district(shibei.with_overrides({"process.bounce.allowed": True}))
    c = build_district(shibei.with_overrides({"seed": 1}))
    assert np.array_equal(a.branch, b.branch) and np.array_equal(a.population, b.population)
    assert not np.array_equal(a.branch, c.branch)
    assert not np.array_equal(a.population, c.population)


def test_tiny_district_with_every_grid_a_branch():
    d = build_district(tiny())
    assert d.branch.tolist() == [True, True] and d.guided.tolist() == [False, False]
    assert d.population.tolist() == [100.0, 100.0]
