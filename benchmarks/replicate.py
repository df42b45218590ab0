"""One replication of a scenario file, as one run does it for each replication.

Loads and validates the scenario (with optional ``--set`` overrides), runs replication
``--replication`` through ``sim.experiment.simulate`` and prints one JSON line: complaints,
events (with ``--events``; else null) and seconds inside Python. Nothing is written to disk:
the tables stay in memory, as in a worker of a multi-replication run.

    python benchmarks/replicate.py scenarios/shibei-2020-whistle.yaml --events
"""

from __future__ import annotations

import argparse

from clock import Clock

from sim.config import load_scenario
from sim.experiment import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--replication", type=int, default=0)
    parser.add_argument("--events", action="store_true", help="record the event log too")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    clock = Clock()
    scenario = load_scenario(args.scenario, args.overrides or None)
    rep = simulate(scenario, args.replication, events=args.events)
    clock.report(complaints=len(rep.complaints),
                 events=None if rep.events is None else len(rep.events))


if __name__ == "__main__":
    main()
