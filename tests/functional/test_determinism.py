"""Determinism and common random numbers: results depend on the scenario, the seed and the
replication index only, and scenarios that share a district and arrivals see the same
residents with the same problems."""

from __future__ import annotations

import pandas as pd
import pandas.testing as pdt
import pytest
from kit import DEMO, small_shibei

import sim
from sim.config import load_scenario
from sim.experiment import simulate

SAME_COMPLAINT = ["arrival_day", "grid", "community", "street", "category", "needs", "unclear"]


@pytest.fixture(scope="module")
def demo():
    return load_scenario(DEMO)


def test_same_scenario_twice_gives_equal_tables(demo):
    a, b = sim.run(demo, replications=2, jobs=1), sim.run(demo, replications=2, jobs=1)
    pdt.assert_frame_equal(a.complaints, b.complaints)
    pdt.assert_frame_equal(a.kpis, b.kpis)
    pdt.assert_frame_equal(a.summary, b.summary)
    pdt.assert_frame_equal(a.utilization, b.utilization)


def test_same_replication_twice_gives_equal_event_logs(demo):
    a, b = simulate(demo, 1, events=True), simulate(demo, 1, events=True)
    pdt.assert_frame_equal(a.events, b.events)
    pdt.assert_series_equal(pd.Series(a.kpis), pd.Series(b.kpis))


def test_replication_does_not_depend_on_the_others(demo):
    """Replication 1 alone equals replication 1 of a run of three."""
    together = sim.run(demo, replications=3, jobs=1).complaints
    alone = simulate(demo, 1).complaints
    pdt.assert_frame_equal(together[together["replication"] == 1].reset_index(drop=True), alone)


def test_seed_and_replication_change_the_complaints(demo):
    base = simulate(demo, 0).complaints
    other_rep = simulate(demo, 1).complaints
    other_seed = simulate(demo.with_overrides({"seed": 8}), 0).complaints
    for other in (other_rep, other_seed):
        n = min(len(base), len(other))
        assert not base["arrival_day"][:n].equals(other["arrival_day"][:n])


def test_legacy_and_whistle_see_the_same_complaints():
    """Common random numbers: the two processes, on the same small district with the same
    seed, get identical complaints though everything that happens to them differs."""
    legacy, whistle = small_shibei("2019-legacy"), small_shibei("2020-whistle")
    assert legacy.seed == whistle.seed
    for replication in (0, 1):
        a = simulate(legacy, replication).complaints
        b = simulate(whistle, replication).complaints
        pdt.assert_frame_equal(a[SAME_COMPLAINT], b[SAME_COMPLAINT])
        assert not a["outcome"].equals(b["outcome"])
        assert (a["entry_level"] == "community").all() and (b["entry_level"] == "grid").any()


def test_changing_staff_or_bounce_keeps_the_complaints(demo):
    base = simulate(demo, 0).complaints
    changed = simulate(demo.with_overrides({"levels.street.staff": 3,
                                            "process.escalation_delay": {"dist": "fixed", "value": 1},
                                            "process.bounce.allowed": True}), 0).complaints
    pdt.assert_frame_equal(base[SAME_COMPLAINT], changed[SAME_COMPLAINT])
    assert not base["wait_days"].equals(changed["wait_days"])


def test_service_times_of_one_level_do_not_shift_another(demo):
    """Each level draws its times from its own stream: the grid's resolve times stay the same
    when the platform's distribution changes, so grid-resolved complaints that never leave
    the grid close at the same moments (before day 10, ahead of any follow-up contact of a
    complaint the platform holds longer)."""
    base = simulate(demo, 0).complaints
    changed = simulate(demo.with_overrides(
        {"levels.platform.resolve": {"dist": "exponential", "mean": 9}}), 0).complaints
    grid_only = (base["resolved_level"] == "grid") & (base["handoffs"] == 0)
    assert grid_only.sum() > 100
    head = grid_only & (base["arrival_day"] < 10)
    pd.testing.assert_series_equal(base.loc[head, "closed_day"], changed.loc[head, "closed_day"])
