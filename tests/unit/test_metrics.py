"""KPIs worked out by hand on four traced complaints, and the confidence intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from kit import tiny, traced
from scipy import stats

from sim.config import LEVELS
from sim.metrics import kpi_names, mean_ci, replication_kpis, summarize
from sim.records import ReplicationRecords

# Complaint 0 is resolved at grid 0 after 1 day; 1 at the department after 4.3 days (two
# handoffs); 2 stalls at the department after queueing there 2 days and is abandoned on day 22
# (20 days open); 3 is resolved at the street after 2.6 days (one handoff).
FOUR = ({"day": 1.0}, {"day": 1.0, "grid": 1, "needs": "department"},
        {"day": 2.0, "grid": 1, "needs": "platform", "patience": 20.0}, {"day": 3.0, "needs": "street"})


def kpis_of(scenario, *complaints):
    _, table, w = traced(scenario, *complaints)
    rec = ReplicationRecords.from_world(w)
    return table, replication_kpis(scenario, table, rec, np.random.default_rng(0))


def test_kpi_names_follow_the_design():
    names = kpi_names(tiny(sla_days=[7, 30, 2.5]))
    assert names == [
        "arrivals", "resolved_share", "abandoned_share", "open_share",
        "resolved_within_7d_share", "resolved_within_30d_share", "resolved_within_2.5d_share",
        "days_to_close_mean", "days_to_close_p50", "days_to_close_p90", "wait_days_mean",
        "handoffs_mean", "bounces_mean", "contacts_mean", "reopens_mean", "resolution_reported_share",
        *(f"resolved_at_{level}_share" for level in LEVELS),
        "satisfaction_mean", "satisfaction_survey",
        *(f"utilization_{level}" for level in LEVELS),
        "pushdown_share_of_community_time",
    ]


def test_kpis_of_four_traced_complaints():
    s = tiny(sla_days=[2, 7])
    table, k = kpis_of(s, *FOUR)
    assert list(k) == kpi_names(s)
    assert table["outcome"].tolist() == ["resolved", "resolved", "abandoned", "resolved"]
    expected = {
        "arrivals": 4, "resolved_share": 0.75, "abandoned_share": 0.25, "open_share": 0.0,
        "resolved_within_2d_share": 0.25, "resolved_within_7d_share": 0.75,
        "days_to_close_mean": (1 + 4.3 + 2.6) / 3, "days_to_close_p50": 2.6,
        "days_to_close_p90": 2.6 + 0.8 * (4.3 - 2.6), "wait_days_mean": 0.5,
        "handoffs_mean": 1.25, "bounces_mean": 0.0, "contacts_mean": 1.0,
        "reopens_mean": 0.0, "resolution_reported_share": 0.75,
        "resolved_at_grid_share": 1 / 3, "resolved_at_community_share": 0.0,
        "resolved_at_street_share": 1 / 3, "resolved_at_department_share": 1 / 3,
        "resolved_at_platform_share": 0.0, "resolved_at_leadership_share": 0.0,
        # busy grid-days: 1 (resolve) + 3 x 0.1 (handle), over 2 grids x 100 days
        "utilization_grid": 1.3 / 200, "utilization_street": (0.2 + 0.2 + 2.0) / 100,
        "utilization_department": (3.0 + 0.5) / 100,
    }
    for name, value in expected.items():
        assert k[name] == pytest.approx(value), name
    for level in ("community", "platform", "leadership"):       # not on the route
        assert math.isnan(k[f"utilization_{level}"])
    assert k["pushdown_share_of_community_time"] == 0.0          # no push-down tasks


def test_satisfaction_is_the_logistic_of_the_experience():
    s = tiny()
    table, k = kpis_of(s, *FOUR)
    sat = s.satisfaction
    z = sat.intercept + sat.per_day * 20.0 + sat.per_handoff * 2 + sat.unresolved   # complaint 2
    assert table["satisfied_p"][2] == pytest.approx(1 / (1 + math.exp(-z)))
    z0 = sat.intercept + sat.per_day * 1.0                                       # complaint 0
    assert table["satisfied_p"][0] == pytest.approx(1 / (1 + math.exp(-z0)))
    assert k["satisfaction_mean"] == pytest.approx(table["satisfied_p"].mean())
    assert k["satisfaction_survey"] in (0.0, 0.25, 0.5, 0.75, 1.0)   # 4 residents asked


def test_kpis_count_only_the_cohort():
    """Warm-up 1.5 days and cool-down 97.5 days of 100 leave complaints arriving in [1.5, 2.5)."""
    s = tiny(warmup_days=1.5, cooldown_days=97.5)
    table, k = kpis_of(s, *FOUR)
    assert table["in_cohort"].tolist() == [False, False, True, False]
    assert k["arrivals"] == 1 and k["abandoned_share"] == 1.0
    assert math.isnan(k["days_to_close_mean"])                  # nothing resolved in the cohort


def test_mean_ci_is_the_student_t_interval():
    x = np.array([1.0, 2.0, 4.0, 7.0, np.nan])
    mean, std, low, high, n = mean_ci(x)
    finite = x[:4]
    expected = stats.t.interval(0.95, 3, loc=finite.mean(), scale=stats.sem(finite))
    assert (mean, n) == (3.5, 4)
    assert std == pytest.approx(finite.std(ddof=1))
    assert (low, high) == pytest.approx(expected)


def test_mean_ci_of_one_or_no_value():
    assert mean_ci(np.array([2.0]))[0] == 2.0 and math.isnan(mean_ci(np.array([2.0]))[2])
    assert math.isnan(mean_ci(np.array([np.nan]))[0]) and mean_ci(np.array([np.nan]))[4] == 0


def test_summary_has_one_row_per_kpi():
    import pandas as pd

    kpis = pd.DataFrame({"replication": [0, 1, 2], "a": [1.0, 2.0, 3.0], "b": [np.nan] * 3})
    summary = summarize(kpis)
    assert summary.columns.tolist() == ["kpi", "mean", "std", "ci_low", "ci_high", "replications"]
    assert summary["kpi"].tolist() == ["a", "b"]
    assert summary["replications"].tolist() == [3, 0]
    assert summary.loc[0, "mean"] == 2.0
