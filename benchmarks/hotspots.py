"""Where a replication's time goes: events, calls per complaint, the busiest functions.

Two runs of the same replication in this process. The first is plain: the event loop
(``sim.engine.Clock.run``) is timed in CPU seconds and its events counted, so events per
second is the model's real speed. The second runs under ``cProfile``, whose exact call counts
give Python calls per complaint and per event, and which functions are called most; its times
are inflated by the profiler's cost per call, so only the counts are reported. cProfile sees
only Python calls: with the compiled engine (``engine`` in the output) it sees what the
compiled modules call outside themselves; ``GOVSIM_PURE_PYTHON=1`` counts every call of the
model's source. A bare SimPy
callback chain, events that do nothing but schedule the next one, gives the floor: the
events per second of SimPy's loop with no model at all.

    python benchmarks/hotspots.py scenarios/shibei-2020-whistle.yaml
    python benchmarks/hotspots.py --mmc 200000          # the M/M/c queue of mmc_govsim.py
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time
from typing import Any

import simpy
from clock import around_event_loop, emit, events_processed
from mmc_govsim import mmc_scenario

from sim.config import Scenario, load_scenario
from sim.experiment import simulate

TOP = 15
FLOOR_EVENTS = 1_000_000


def plain_run(scenario: Scenario) -> dict[str, Any]:
    """One replication without the profiler: event-loop CPU seconds and events processed."""
    loops: list[tuple[float, int]] = []
    started = time.process_time()
    with around_event_loop(lambda clock, cpu: loops.append((cpu, events_processed(clock)))):
        rep = simulate(scenario, 0)
    loop_cpu, events = sum(c for c, _ in loops), sum(e for _, e in loops)
    return {"complaints": len(rep.complaints), "events": events, "loop_cpu_s": round(loop_cpu, 3),
            "replication_cpu_s": round(time.process_time() - started, 3),
            "events_per_s": round(events / loop_cpu) if loop_cpu else None}


def counted_run(scenario: Scenario, complaints: int, events: int) -> dict[str, Any]:
    """The same replication under cProfile: calls in all, per complaint, per event, and the
    functions called most (with their own calls per complaint)."""
    profiler = cProfile.Profile()
    profiler.runcall(simulate, scenario, 0)
    stats = pstats.Stats(profiler)
    rows = []
    for (path, line, name), (_, ncalls, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = path if path.startswith("~") else f"{'/'.join(path.split('/')[-2:])}:{line}"
        rows.append({"function": name, "where": where, "calls": ncalls, "tottime": tottime})
    rows.sort(key=lambda r: -r["calls"])
    total = stats.total_calls  # type: ignore[attr-defined]
    return {"calls": total, "calls_per_complaint": round(total / complaints, 1),
            "calls_per_event": round(total / events, 1) if events else None,
            "top": [{"function": r["function"], "where": r["where"], "calls": r["calls"],
                     "per_complaint": round(r["calls"] / complaints, 2)} for r in rows[:TOP]]}


def floor_events_per_second(events: int = FLOOR_EVENTS, chains: int = 100) -> int:
    """Events per CPU second of SimPy's own loop, each event's callback only scheduling the
    next: the fastest any SimPy model of this many events can be."""
    env, rng, left = simpy.Environment(), random.Random(1), [events]

    def tick(_: simpy.Event) -> None:
        left[0] -= 1
        if left[0] > 0:
            env.timeout(rng.expovariate(1.0)).callbacks.append(tick)

    for _ in range(chains):
        env.timeout(rng.expovariate(1.0)).callbacks.append(tick)
    started = time.process_time()
    env.run()
    return round(events / (time.process_time() - started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", help="scenario YAML file")
    parser.add_argument("--mmc", type=int, metavar="CUSTOMERS", help="profile the M/M/c queue instead")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    if (args.scenario is None) == (args.mmc is None):
        parser.error("give a scenario file or --mmc CUSTOMERS")
    scenario = (mmc_scenario(args.mmc, 3.6, 1.0, 4, 1) if args.mmc
                else load_scenario(args.scenario, args.overrides or None))
    plain = plain_run(scenario)
    counted = counted_run(scenario, plain["complaints"], plain["events"])
    floor = floor_events_per_second()
    from sim.native import kind
    result = {"scenario": scenario.name, "engine": kind(), **plain, **counted, "floor_events_per_s": floor,
              "above_floor": round(floor / plain["events_per_s"], 2) if plain["events_per_s"] else None}
    emit(result, (f"{r['calls']:>10,} {r['per_complaint']:>7.2f}/complaint  {r['function']}  {r['where']}"
                  for r in result["top"]))

if __name__ == "__main__":
    main()
