"""Directions: change one key of a small scenario and the KPIs move the way they must.

Each comparison uses the same seed and replications (common random numbers), so the
difference is the change's and not the noise's; three replications each.
"""

from __future__ import annotations

import numpy as np
import pytest
from kit import DEMO, small_shibei

from sim.config import load_scenario
from sim.experiment import simulate

REPLICATIONS = range(3)


_kpis: dict[tuple[str, int], dict[str, float]] = {}


def kpi(scenario, name):
    """One KPI over the replications (each scenario's replications run once per session)."""
    for r in REPLICATIONS:
        if (scenario.sha256(), r) not in _kpis:
            _kpis[scenario.sha256(), r] = simulate(scenario, r).kpis
    return np.array([_kpis[scenario.sha256(), r][name] for r in REPLICATIONS])


@pytest.fixture(scope="module")
def demo():
    return load_scenario(DEMO)


@pytest.fixture(scope="module")
def legacy():
    return small_shibei("2019-legacy")


@pytest.fixture(scope="module")
def whistle():
    return small_shibei("2020-whistle")


def test_more_staff_less_waiting(demo):
    """Departments with 3, 5 and 12 officers each: from busy (utilisation about 0.9) to idle."""
    waits = [kpi(demo.with_overrides({"levels.department.staff": n}), "wait_days_mean") for n in (3, 5, 12)]
    assert (waits[0] > waits[1]).all() and (waits[1] > waits[2]).all()
    assert waits[2].mean() < waits[0].mean() / 3


def test_more_pushdown_tasks_more_waiting_and_busier_communities(legacy):
    quiet = legacy.with_overrides({"process.pushdown.tasks_per_community_per_day": 0})
    assert (kpi(quiet, "wait_days_mean") < kpi(legacy, "wait_days_mean")).all()
    assert (kpi(quiet, "pushdown_share_of_community_time") == 0).all()
    assert (kpi(legacy, "pushdown_share_of_community_time") > 0.3).all()


def test_higher_bounce_probability_more_bounces(legacy):
    bounces = [kpi(legacy.with_overrides({"process.bounce.probability": p}), "bounces_mean")
               for p in (0.1, 0.4, 0.8)]
    assert (bounces[0] < bounces[1]).all() and (bounces[1] < bounces[2]).all()


@pytest.mark.parametrize("which", ["demo", "whistle", "legacy-without-bounce"])
def test_no_bounce_scenarios_never_bounce(which, demo, whistle, legacy):
    scenario = {"demo": demo, "whistle": whistle,
                "legacy-without-bounce": legacy.with_overrides({"process.bounce.allowed": False})}[which]
    assert scenario.process.bounce.probability > 0
    for r in REPLICATIONS:
        rep = simulate(scenario, r, events=True)
        assert rep.complaints["bounces"].sum() == 0
        assert not (rep.events["activity"] == "bounce").any()
        assert rep.kpis["bounces_mean"] == 0


def test_legacy_does_bounce(legacy):
    assert (kpi(legacy, "bounces_mean") > 0.1).all()


def test_whistle_route_resolves_leadership_level_complaints(whistle):
    for r in REPLICATIONS:
        c = simulate(whistle, r).complaints
        top = c[(c["needs"] == "leadership") & (c["outcome"] == "resolved")]
        assert len(top) > 10
        assert (top["resolved_level"] == "leadership").all()


def test_route_ending_at_departments_never_resolves_leadership_level_complaints(legacy):
    for r in REPLICATIONS:
        c = simulate(legacy, r).complaints
        high = c[c["needs"].isin(["platform", "leadership"])]
        assert len(high) > 50
        assert (high["outcome"] != "resolved").all()
        assert (c.loc[c["outcome"] == "resolved", "resolved_level"] != "leadership").all()


def test_more_guides_more_resolved_in_the_grid(whistle):
    without = kpi(whistle.with_overrides({"process.guides": 0}), "resolved_at_grid_share")
    assert (without < kpi(whistle, "resolved_at_grid_share")).all()


def test_less_patience_more_abandoned(legacy):
    impatient = legacy.with_overrides({"residents.patience.mean": 10})
    assert (kpi(impatient, "abandoned_share") > kpi(legacy, "abandoned_share")).all()


def test_without_patience_nobody_abandons(legacy):
    c = simulate(legacy.with_overrides({"residents.patience": None}), 0).complaints
    assert not (c["outcome"] == "abandoned").any()
