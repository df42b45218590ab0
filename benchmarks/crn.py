"""How much common random numbers buy: the variance-reduction factor of paired comparisons.

For each pair (base, reform) of scenarios, replication r of both on the scenario's seed gives
the paired difference; replication r of the reform on another seed gives the independent one.
The factor is Var(independent difference) / Var(paired difference) over replications: how
many times more replications independent runs would need for the same confidence interval.

    python benchmarks/crn.py --replications 8 --jobs 1
"""

from __future__ import annotations

import argparse

import pandas as pd

from sim.config import load_scenario
from sim.experiment import replicate
from sim.sequential import Plan

KPIS = ("resolved_share", "days_to_close_mean", "satisfaction_mean")
BASE = "scenarios/shibei-2019-legacy.yaml"
REFORMS = ("scenarios/shibei-2020-whistle.yaml", "scenarios/shibei-2019-pilot.yaml")
OTHER_SEED = 977                       # any seed other than the scenarios' own


def factors(base: str, reform: str, replications: int, jobs: int) -> list[dict[str, object]]:
    """The variance-reduction factor of each KPI for one pair of scenario files."""
    a, b = load_scenario(base), load_scenario(reform)
    b_other = load_scenario(reform, [f"seed={OTHER_SEED}"])
    rows = [[rep.kpis for rep in row] for row in replicate([a, b, b_other], Plan.fixed(replications), jobs)]
    out = []
    for kpi in KPIS:
        frame = pd.DataFrame([[r[0][kpi], r[1][kpi], r[2][kpi]] for r in rows], columns=["a", "b", "o"])
        paired, independent = (frame.b - frame.a).var(), (frame.o - frame.a).var()
        out.append({"pair": f"{a.name} vs {b.name}", "kpi": kpi, "var_independent": independent,
                    "var_paired": paired, "factor": independent / paired if paired else float("inf")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    rows = [row for reform in REFORMS for row in factors(BASE, reform, args.replications, args.jobs)]
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
