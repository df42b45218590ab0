"""M/M/c in govsim: one department with ``c`` staff, everything recorded as usual.

The degenerate scenario of docs/validation.md: one grid in one community on one street, a
single department, a single category that only the department can resolve, exponential
resolve times, and everything else switched off (no grid branches, guides, bounces,
duplicate contacts, push-down tasks, impatient or calling residents). Complaints arrive at
``lambda`` per day (1,000 residents at ``lambda`` per 1,000 a day) for ``customers / lambda``
days. The replication runs through ``sim.experiment.simulate``, the same call a run makes
for each replication: complaint table, KPIs, utilization and the conservation check
included. Prints one JSON line: complaints, mean wait (the ``wait_days_mean`` KPI), seconds
inside Python.

    python benchmarks/mmc_govsim.py --customers 200000
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from clock import Clock

from sim.config import Scenario, validate
from sim.experiment import simulate

WARMUP_DAYS = 10.0
MOST_DAYS = 30_000.0     # below the scenario schema's limit of 100 years


def time_scale(customers: int, lam: float) -> int:
    """How many of the queue's time units one govsim day stands for: 1, unless the run would
    exceed ``MOST_DAYS`` (200,000 customers at 3.6 a unit take 55,556 units), then the
    smallest whole number that fits. Rates are per day times it, so the queue, its events
    and its customers are the same; only the clock's unit differs."""
    return max(1, math.ceil(customers / lam / MOST_DAYS))


def mmc_scenario(customers: int, lam: float, mu: float, servers: int, seed: int) -> Scenario:
    """The scenario that reduces govsim to one M/M/c queue at one department."""
    k = time_scale(customers, lam)
    raw: dict[str, Any] = {
        "name": "mmc-bench",
        "seed": seed,
        "horizon_days": customers / lam / k,
        "warmup_days": WARMUP_DAYS / k,
        "cooldown_days": 0,
        "replications": 1,
        "district": {"streets": 1, "communities": 1, "grids": 1, "population": 1000 * k,
                     "population_cv": 0, "departments": 1},
        "arrivals": {"per_1000_residents_per_day": lam},
        "categories": [{"name": "q", "weight": 1, "needs": {"department": 1}, "unclear": 0}],
        "levels": {
            "department": {"staff": servers, "handle": {"dist": "exponential", "mean": 1 / mu / k},
                           "resolve": {"dist": "exponential", "mean": 1 / mu / k}},
            # ordinary staff instead of weekly meetings: a lone queue has no meeting ticks
            "leadership": {"staff": 1, "handle": {"dist": "fixed", "value": 0},
                           "resolve": {"dist": "fixed", "value": 0}},
        },
        "process": {"route": ["department"], "grid_branches": 0, "guides": 0,
                    "escalation_delay": {"dist": "fixed", "value": 0},
                    "bounce": {"allowed": False}, "duplicate_contacts": 0,
                    "pushdown": {"tasks_per_community_per_day": 0}},
        "residents": {"patience": None, "follow_up_every_days": None},
    }
    return validate(raw, "mmc-bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--lam", type=float, default=3.6, help="arrivals per day")
    parser.add_argument("--mu", type=float, default=1.0, help="services per staff member per day")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    clock = Clock()
    scenario = mmc_scenario(args.customers, args.lam, args.mu, args.servers, args.seed)
    rep = simulate(scenario, 0)
    clock.report(customers=len(rep.complaints),
                 mean_wait=rep.kpis["wait_days_mean"] * time_scale(args.customers, args.lam))


if __name__ == "__main__":
    main()
