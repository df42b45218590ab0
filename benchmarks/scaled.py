"""Does a scaled district give the KPIs of the full one? Replications of each scenario at
full size and at ``--factor``, on the same seeds, and for each KPI the two means, the 95%
CI of the full one and whether the scaled mean lies inside it. Prints a Markdown table and
the seconds per replication of each size (docs/calibration.md quotes it).

    python benchmarks/scaled.py scenarios/shibei-2019-legacy.yaml scenarios/shibei-2020-whistle.yaml \\
        --factor 0.25 --replications 5 --jobs 2
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from sim.config import load_scenario
from sim.district import scaled
from sim.experiment import run
from sim.metrics import summarize

KPIS = ("resolution_reported_share", "days_to_close_p50",
        "resolved_share", "abandoned_share", "days_to_close_mean", "days_to_close_p90", "handoffs_mean",
        "bounces_mean", "contacts_mean", "satisfaction_mean", "satisfaction_survey", "resolved_at_grid_share",
        "resolved_within_7d_share", "utilization_community", "utilization_street", "utilization_department")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="+")
    parser.add_argument("--factor", type=float, default=0.25)
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for path in args.scenarios:
        full = load_scenario(path)
        seconds = {}
        summaries = {}
        for size, scenario in (("full", full), ("scaled", scaled(full, args.factor))):
            started = time.perf_counter()
            result = run(scenario, args.replications, jobs=args.jobs)
            seconds[size] = (time.perf_counter() - started) * args.jobs / args.replications
            summaries[size] = summarize(result.kpis).set_index("kpi")
        print(f"{full.name}: {seconds['full']:.2f} s per replication full, {seconds['scaled']:.2f} s scaled "
              f"(x{args.factor:g})", flush=True)
        for kpi in KPIS:
            f, s = summaries["full"].loc[kpi], summaries["scaled"].loc[kpi]
            rows.append({"scenario": full.name, "kpi": kpi, "full": f["mean"], "full_ci_low": f["ci_low"],
                         "full_ci_high": f["ci_high"], "scaled": s["mean"], "scaled_ci_low": s["ci_low"],
                         "scaled_ci_high": s["ci_high"],
                         "cis_overlap": bool(s["ci_low"] <= f["ci_high"] and f["ci_low"] <= s["ci_high"]),
                         "scaled_in_full_ci": bool(f["ci_low"] <= s["mean"] <= f["ci_high"])})
    table = pd.DataFrame(rows)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
