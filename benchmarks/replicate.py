"""One replication of a scenario file, as one run does it for each replication.

Loads and validates the scenario (with optional ``--set`` overrides), runs replication
``--replication`` through ``sim.experiment.simulate`` and prints one JSON line: complaints,
events (with ``--events``; else null), seconds inside Python and, with ``--kpis``, the
headline KPIs and each level's utilisation (NaN: the level is not on the route). Nothing is
written to disk: the tables stay in memory, as in a worker of a multi-replication run.

    python benchmarks/replicate.py scenarios/shibei-2020-whistle.yaml --events
"""

from __future__ import annotations

import argparse

from clock import Clock

from sim.config import load_scenario
from sim.experiment import simulate

HEADLINE = ("resolved_share", "resolution_reported_share", "satisfaction_mean", "days_to_close_mean",
            "reopens_mean", "contacts_mean", "abandoned_share")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--replication", type=int, default=0)
    parser.add_argument("--events", action="store_true", help="record the event log too")
    parser.add_argument("--kpis", action="store_true",
                        help="add the headline KPIs and each level's utilisation to the line")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    clock = Clock()
    scenario = load_scenario(args.scenario, args.overrides or None)
    rep = simulate(scenario, args.replication, events=args.events)
    kpis = {k: round(v, 4) for k, v in rep.kpis.items()
            if args.kpis and (k in HEADLINE or k.startswith("utilization_"))}
    clock.report(complaints=len(rep.complaints),
                 events=None if rep.events is None else len(rep.events), **kpis)


if __name__ == "__main__":
    main()
