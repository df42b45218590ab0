"""How much common random numbers buy: the variance-reduction factor of paired comparisons.

For each pair (base, reform) of scenarios, replication r of both on the scenario's seed gives
the paired difference; replication r of the reform on another seed gives the independent one.
The factor is Var(independent difference) / Var(paired difference) over replications: how
many times more replications independent runs would need for the same confidence interval.

    python benchmarks/crn.py --replications 8 --jobs 1
    python benchmarks/crn.py --base scenarios/demo-legacy.yaml --reform scenarios/demo.yaml
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


def factors(base: str, reforms: tuple[str, ...], replications: int, jobs: int) -> list[dict[str, object]]:
    """The variance-reduction factor of each KPI for the base against each reform file."""
    a = load_scenario(base)
    pairs = [(load_scenario(r), load_scenario(r, [f"seed={OTHER_SEED}"])) for r in reforms]
    scenarios = [a, *(s for pair in pairs for s in pair)]
    rows = [[rep.kpis for rep in row] for row in replicate(scenarios, Plan.fixed(replications), jobs)]
    out = []
    for i, (b, _) in enumerate(pairs):
        for kpi in KPIS:
            frame = pd.DataFrame([[r[0][kpi], r[1 + 2 * i][kpi], r[2 + 2 * i][kpi]] for r in rows],
                                 columns=["a", "b", "o"])
            paired, independent = (frame.b - frame.a).var(), (frame.o - frame.a).var()
            out.append({"pair": f"{a.name} vs {b.name}", "kpi": kpi, "var_independent": independent,
                        "var_paired": paired, "factor": independent / paired if paired else float("inf")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--base", default=BASE, help=f"base scenario file (default {BASE})")
    parser.add_argument("--reform", action="append", help="reform scenario file, repeatable "
                        f"(default {' and '.join(REFORMS)})")
    args = parser.parse_args()
    rows = factors(args.base, tuple(args.reform or REFORMS), args.replications, args.jobs)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
