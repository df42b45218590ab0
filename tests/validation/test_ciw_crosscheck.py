"""govsim against Ciw, an independent queueing-network library, on the bounce loop.

The street escalates every complaint to the department, which sends it back with probability
p: in Ciw that is two nodes with a routing matrix. Both simulators run the same number of
replications of the same length, and each one's mean must lie inside the other's interval.
Two correct simulators differ by about sqrt(2) standard errors, so each interval uses the
multiplier that makes this mutual check fail at most ``FALSE_ALARM`` of the time over all
measures compared (documented in docs/validation.md).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.metrics import mean_ci
from sim.validation import BounceLoop, Size, samples

pytestmark = pytest.mark.slow   # long: run with the full tier (CI), skip with -m 'not slow'

ciw = pytest.importorskip("ciw")

CASE = BounceLoop()
SIZE = Size("ciw", replications=30, horizon_days=5000.0)
MEASURES = ("days_to_close_mean", "wait_days_mean", "bounces_mean")
FALSE_ALARM = 0.01


def ciw_replication(case: BounceLoop, size: Size, seed: int) -> dict[str, float]:
    """One Ciw run of the bounce loop, measured like govsim's cohort."""
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=case.rate), None],
        service_distributions=[ciw.dists.Exponential(rate=1 / case.street_service),
                               ciw.dists.Exponential(rate=1 / case.department_service)],
        routing=[[0.0, 1.0], [case.p, 0.0]],
        number_of_servers=[case.street_staff, case.department_staff],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(size.horizon_days)
    records = pd.DataFrame(simulation.get_all_records())
    records["at_department"] = records["node"] == 2
    records["leaves"] = records["destination"] == -1
    per = records.groupby("id_number").agg(
        arrived=("arrival_date", "min"), left=("exit_date", "max"), wait=("waiting_time", "sum"),
        department_visits=("at_department", "sum"), done=("leaves", "any"))
    cohort = per[(per["arrived"] >= size.warmup_days)
                 & (per["arrived"] < size.horizon_days - size.cooldown_days)]
    assert cohort["done"].all(), "a cohort complaint was still in Ciw's network at the horizon"
    return {"days_to_close_mean": float((cohort["left"] - cohort["arrived"]).mean()),
            "wait_days_mean": float(cohort["wait"].mean()),
            "bounces_mean": float(cohort["department_visits"].mean() - 1)}


def mutual_confidence(measures: int, false_alarm: float = FALSE_ALARM) -> float:
    """Interval confidence at which 'each mean inside the other's interval' fails with
    probability ``false_alarm`` over ``measures`` when both simulators are right (equal
    standard errors: the difference has sqrt(2) of one's standard error)."""
    z = math.sqrt(2) * stats.norm.ppf(1 - false_alarm / (2 * measures))
    return 2 * stats.norm.cdf(z) - 1


@pytest.fixture(scope="module")
def both() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    govsim = {name: values for _, name, values, _ in samples([CASE], SIZE)}
    runs = [ciw_replication(CASE, SIZE, seed) for seed in range(SIZE.replications)]
    return {m: (govsim[m], np.array([r[m] for r in runs])) for m in MEASURES}


@pytest.mark.parametrize("measure", MEASURES)
def test_govsim_and_ciw_inside_each_others_interval(both, measure):
    confidence = mutual_confidence(len(MEASURES))
    g_mean, _, g_low, g_high, _ = mean_ci(both[measure][0], confidence)
    c_mean, _, c_low, c_high, _ = mean_ci(both[measure][1], confidence)
    detail = (f"{measure}: govsim {g_mean:.4g} [{g_low:.4g}, {g_high:.4g}], "
              f"Ciw {c_mean:.4g} [{c_low:.4g}, {c_high:.4g}] at {confidence:.5%}")
    assert c_low <= g_mean <= c_high, detail
    assert g_low <= c_mean <= g_high, detail


def test_the_mutual_check_is_sharp_enough(both):
    """Guard against a check that passes because the intervals are huge: both must pin
    the time to close within 5% of its mean."""
    confidence = mutual_confidence(len(MEASURES))
    for values in both["days_to_close_mean"]:
        mean, _, low, high, _ = mean_ci(values, confidence)
        assert (high - low) / 2 < 0.05 * mean
