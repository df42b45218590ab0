"""Conservation on whole runs: every complaint that arrives ends resolved, abandoned or open,
exactly once; the event log, the complaint table and the KPIs tell the same story."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kit import DEMO, small_shibei

from sim.config import LEVELS, load_scenario
from sim.experiment import ConservationError, check_conservation, simulate
from sim.records import ACTIVITIES

SCENARIOS = {
    "demo": lambda: load_scenario(DEMO),
    "legacy": lambda: small_shibei("2019-legacy"),
    "pilot": lambda: small_shibei("2019-pilot"),
    "whistle": lambda: small_shibei("2020-whistle"),
    # a stressed legacy: short patience, few street staff, bounces, leading group as staff
    "stressed": lambda: small_shibei("2019-legacy", **{
        "residents.patience": {"dist": "exponential", "mean": 5}, "levels.street.staff": 2,
        "process.bounce.probability": 0.9, "process.route": ["community", "street", "department",
                                                                 "leadership"],
        "levels.leadership": {"staff": 1, "handle": {"dist": "fixed", "value": 0.5},
                              "resolve": {"dist": "exponential", "mean": 5}}}),
    # meetings with a short agenda, push-down tasks first
    "meetings": lambda: small_shibei("2020-whistle", **{
        "levels.leadership.items_per_meeting": 2, "process.pushdown.priority": "first",
        "process.duplicate_contacts": 1.0}),
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def replication(request):
    scenario = SCENARIOS[request.param]()
    return scenario, simulate(scenario, 1, events=True)


def test_every_complaint_ends_in_one_outcome(replication):
    _, rep = replication
    c = rep.complaints
    assert len(c) > 1000
    assert c["complaint_id"].tolist() == list(range(len(c)))
    assert set(c["outcome"].unique()) <= {"resolved", "abandoned", "open"}
    assert c["outcome"].notna().all()
    is_open = c["outcome"] == "open"
    assert (c["closed_day"].isna() == is_open).all()
    assert (c["resolved_level"].notna() == (c["outcome"] == "resolved")).all()


def test_times_and_counts_are_consistent(replication):
    scenario, rep = replication
    c = rep.complaints
    closed = c[c["outcome"] != "open"]
    assert (closed["closed_day"] >= closed["arrival_day"]).all()
    assert (closed["closed_day"] <= scenario.horizon_days).all()
    assert np.allclose(c["days_open"], np.where(c["outcome"] == "open", scenario.horizon_days,
                                                c["closed_day"]) - c["arrival_day"])
    assert (c["wait_days"] >= 0).all() and (c["wait_days"] <= c["days_open"] + 1e-9).all()
    assert (c["handoffs"] >= c["bounces"]).all() and (c["contacts"] >= 1).all()
    assert (c["bounces"] <= scenario.process.bounce.max_rounds).all()
    assert c["satisfied_p"].between(0, 1).all()


def test_complaints_are_resolved_only_where_the_power_lies(replication):
    """Resolved at or above its needs, except by a guided grid (community-level problems) or
    by an all-resolving top of the route."""
    scenario, rep = replication
    c = rep.complaints[rep.complaints["outcome"] == "resolved"]
    level = c["resolved_level"].cat.codes
    needs = c["needs"].cat.codes
    top = LEVELS.index(scenario.process.route[-1])
    guided = (level == 0) & (needs == 1) & (scenario.process.guides > 0)
    at_top = (level == top) & scenario.process.top_resolves_all
    assert ((level >= needs) | guided | at_top).all()
    assert set(c["resolved_level"].unique()) <= set(scenario.process.route)


def test_event_log_agrees_with_the_table(replication):
    _, rep = replication
    e, c = rep.events, rep.complaints
    assert e["activity"].cat.categories.tolist() == list(ACTIVITIES)
    assert (e.groupby("complaint_id")["day"].apply(lambda d: d.is_monotonic_increasing)).all()
    first = e.groupby("complaint_id")["activity"].first()
    assert (first == "arrive").all() and len(first) == len(c)
    count = e.groupby(["complaint_id", "activity"], observed=False).size().unstack(fill_value=0)
    assert (count["arrive"] == 1).all()
    # every closure is logged, also one whose fix did not hold (a reopen follows, unless the
    # resident gave up before finding out)
    reopens = c["reopens"].to_numpy()
    assert (count["resolve"] == (c["outcome"] == "resolved").astype(int).to_numpy() + reopens).all()
    assert (count["reopen"] <= reopens).all()
    assert (count["abandon"] == (c["outcome"] == "abandoned").astype(int).to_numpy()).all()
    assert (count["bounce"] == c["bounces"].to_numpy()).all()
    assert (count["escalate"] + count["bounce"] == c["handoffs"].to_numpy()).all()
    assert (count["follow_up"] <= c["contacts"].to_numpy() - 1).all()
    last = e.groupby("complaint_id")["day"].max()
    closed = c["outcome"] != "open"
    assert np.allclose(last[closed.to_numpy()], c.loc[closed, "closed_day"])


def test_kpis_agree_with_the_complaint_table(replication):
    scenario, rep = replication
    k = rep.kpis
    cohort = rep.complaints[rep.complaints["in_cohort"]]
    assert k["arrivals"] == len(cohort) > 0
    shares = cohort["outcome"].value_counts(normalize=True)
    assert k["resolved_share"] + k["abandoned_share"] + k["open_share"] == pytest.approx(1.0, abs=1e-12)
    for outcome in ("resolved", "abandoned", "open"):
        assert k[f"{outcome}_share"] == pytest.approx(shares.get(outcome, 0.0))
    resolved = cohort[cohort["outcome"] == "resolved"]
    assert k["days_to_close_mean"] == pytest.approx(resolved["days_open"].mean())
    assert k["days_to_close_p90"] == pytest.approx(resolved["days_open"].quantile(0.9))
    for column in ("wait_days", "handoffs", "bounces", "contacts"):
        assert k[f"{column}_mean"] == pytest.approx(cohort[column].mean())
    at = resolved["resolved_level"].value_counts(normalize=True)
    assert sum(k[f"resolved_at_{level}_share"] for level in LEVELS) == pytest.approx(1.0)
    for level in LEVELS:
        assert k[f"resolved_at_{level}_share"] == pytest.approx(at.get(level, 0.0))
    for d in scenario.sla_days:
        within = (resolved["days_open"] <= d).sum() / len(cohort)
        assert k[f"resolved_within_{d:g}d_share"] == pytest.approx(within)


def test_utilization_is_a_share_of_staff_time(replication):
    scenario, rep = replication
    u = rep.utilization
    staffed = u[u["staff_days"].notna()]
    assert (staffed["busy_days"] <= staffed["staff_days"] + 1e-9).all()
    assert np.allclose(staffed["utilization"], staffed["busy_days"] / staffed["staff_days"])
    assert (u["mean_queue"] >= 0).all()
    assert set(u["level"]) >= set(scenario.process.route)


# --------------------------------------------------------------------------- the check itself
@pytest.fixture(scope="module")
def demo_rep():
    return simulate(load_scenario(DEMO), 0)


def corrupt(rep, how):
    c, k = rep.complaints.copy(), dict(rep.kpis)
    if how == "lost":
        c = c.drop(index=c.index[5])
    elif how == "no-outcome":
        c["outcome"] = c["outcome"].astype(object)
        c.loc[0, "outcome"] = None
    elif how == "open-with-close-day":
        i = c.index[c["outcome"] == "open"][0]
        c.loc[i, "closed_day"] = 1.0
    elif how == "closed-without-close-day":
        c.loc[c.index[c["outcome"] == "resolved"][0], "closed_day"] = np.nan
    elif how == "resolved-without-level":
        c.loc[c.index[c["outcome"] == "resolved"][0], "resolved_level"] = np.nan
    elif how == "shares":
        k["open_share"] += 0.01
    elif how == "arrivals":
        k["arrivals"] += 1
    return c, k


@pytest.mark.parametrize("how", ["lost", "no-outcome", "open-with-close-day", "closed-without-close-day",
                                 "resolved-without-level", "shares", "arrivals"])
def test_check_conservation_raises_on_a_corrupted_table(demo_rep, how):
    expected = len(demo_rep.complaints)
    check_conservation(demo_rep.complaints, demo_rep.kpis, expected)          # whole: passes
    complaints, kpis = corrupt(demo_rep, how)
    with pytest.raises(ConservationError):
        check_conservation(complaints, kpis, expected)


def test_check_conservation_raises_when_a_complaint_is_counted_twice(demo_rep):
    doubled = pd.concat([demo_rep.complaints, demo_rep.complaints.iloc[:1]], ignore_index=True)
    with pytest.raises(ConservationError):
        check_conservation(doubled, demo_rep.kpis, len(demo_rep.complaints))
