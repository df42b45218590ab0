"""The complaint stream: volume, weekly profile, surges, over-dispersion, attributes, and the
same complaints whatever the process does with them (common random numbers)."""

from __future__ import annotations

import numpy as np
import pytest
from kit import tiny

from sim.arrivals import draw_complaints, draw_pushdown
from sim.district import build_district
from sim.streams import ARRIVAL_PURPOSES, replication_streams

CATEGORIES = [
    {"name": "a", "weight": 3, "needs": {"grid": 0.5, "street": 0.5}, "unclear": 0.2},
    {"name": "b", "weight": 1, "needs": {"department": 1.0}, "unclear": 0.8, "department": 2},
]


def busy(**changes):
    """100 complaints a day over 100 days in a district of 20 grids and 4 departments."""
    base = {"horizon_days": 100, "categories": CATEGORIES,
            "district": {"streets": 2, "communities": 4, "grids": 20, "population": 100_000,
                         "population_cv": 0.5, "departments": 4},
            "arrivals": {"per_1000_residents_per_day": 1.0},
            "process": {"grid_branches": 20, "duplicate_contacts": 0.5},
            "residents": {"patience": {"dist": "exponential", "mean": 30}}}
    for key, value in changes.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and key in base else value
    return tiny(**base)


def draw(scenario, replication=0):
    streams = replication_streams(scenario.seed, replication).child("arrivals", ARRIVAL_PURPOSES)
    return draw_complaints(scenario, build_district(scenario), streams)


def test_volume_and_order():
    s = draw(busy())
    assert abs(len(s) - 10_000) < 4 * 100            # Poisson: sd 100
    assert (np.diff(s.day) >= 0).all()
    assert s.day.min() >= 0 and s.day.max() < 100


def test_grids_in_proportion_to_population():
    scenario = busy()
    s = draw(scenario)
    population = build_district(scenario).population
    share = np.bincount(s.grid, minlength=20) / len(s)
    assert share == pytest.approx(population / population.sum(), abs=0.01)


def test_attributes_follow_the_categories():
    s = draw(busy())
    b = s.category == 1
    assert b.mean() == pytest.approx(0.25, abs=0.02)
    assert (s.needs[b] == 3).all() and (s.department[b] == 2).all()
    assert np.isin(s.needs[~b], [0, 2]).all()
    assert (s.needs[~b] == 0).mean() == pytest.approx(0.5, abs=0.03)
    assert s.unclear[b].mean() == pytest.approx(0.8, abs=0.03)
    assert s.unclear[~b].mean() == pytest.approx(0.2, abs=0.02)
    assert set(np.unique(s.department[~b])) == {0, 1, 2, 3}      # no owner: spread over all
    assert s.patience.mean() == pytest.approx(30, rel=0.05)
    assert s.duplicates.mean() == pytest.approx(0.5, rel=0.06)


def test_weekly_profile_shapes_the_days():
    s = draw(busy(arrivals={"weekly_profile": [2, 1, 1, 1, 1, 1, 0]}))
    weekday = np.floor(s.day).astype(int) % 7
    counts = np.bincount(weekday, minlength=7)
    assert counts[6] == 0
    assert counts[0] / counts[1] == pytest.approx(2.0, rel=0.1)
    assert abs(len(s) - 10_000) < 400                  # the profile is mean-normalised


def test_surge_multiplies_only_its_categories_on_its_days():
    surge = {"start_day": 50, "days": 10, "multiplier": 4, "categories": ["b"]}
    s = draw(busy(arrivals={"surges": [surge]}))
    inside = (s.day >= 50) & (s.day < 60)
    per_day_b_inside = (inside & (s.category == 1)).sum() / 10
    per_day_b_outside = (~inside & (s.category == 1)).sum() / 90
    per_day_a_inside = (inside & (s.category == 0)).sum() / 10
    assert per_day_b_inside / per_day_b_outside == pytest.approx(4, rel=0.15)
    assert per_day_a_inside == pytest.approx(75, rel=0.15)


def test_overdispersion_widens_daily_counts():
    def daily_variance(scenario):
        s = draw(scenario)
        return np.bincount(np.floor(s.day).astype(int), minlength=100).var()
    assert daily_variance(busy()) < 150                                 # Poisson: about 100
    assert daily_variance(busy(arrivals={"overdispersion": 0.5})) > 1000  # about 100 + 50**2


def test_no_patience_means_never_giving_up():
    s = draw(busy(residents={"patience": None}))
    assert np.isinf(s.patience).all()


def test_same_complaints_whatever_the_process():
    """Routing, staff, guides, bounce and duplicates change nothing about who complains of what."""
    a = draw(busy())
    b = draw(busy(process={"route": ["community", "street", "department"], "grid_branches": 0,
                           "bounce": {"allowed": True}, "duplicate_contacts": 0.0,
                           "escalation_delay": {"dist": "exponential", "mean": 2}},
                  levels={"street": {"staff": 9}}))
    for column in ("day", "grid", "category", "needs", "unclear", "department", "patience"):
        assert np.array_equal(getattr(a, column), getattr(b, column)), column
    assert b.duplicates.sum() == 0


def test_replications_see_different_complaints():
    assert not np.array_equal(draw(busy(), 0).day[:50], draw(busy(), 1).day[:50])


def test_pushdown_tasks():
    scenario = busy(process={"pushdown": {"tasks_per_community_per_day": 2.0}})
    day, community = draw_pushdown(scenario, build_district(scenario), np.random.default_rng(0))
    assert abs(len(day) - 800) < 4 * np.sqrt(800)
    assert (np.diff(day) >= 0).all() and day.max() < 100
    assert set(np.unique(community)) == {0, 1, 2, 3}
    none = busy(process={"pushdown": {"tasks_per_community_per_day": 0}})
    assert len(draw_pushdown(none, build_district(none), np.random.default_rng(0))[0]) == 0
