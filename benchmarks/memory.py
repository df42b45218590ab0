"""Where a replication's memory goes, per complaint.

Runs one replication under ``tracemalloc`` and looks at what Python holds at three moments:
when the event loop ends (the world still whole: complaint objects, record lists, the drawn
streams, queues), and once the replication's tables are built and the world is gone (the
complaint DataFrame and KPIs). Each allocation is charged to the source line that made it,
so the report names the lines that hold the most, in bytes per complaint. ``tracemalloc``
slows the run about threefold and counts only Python's own allocations (numpy's included,
not the interpreter's or the libraries' code): use peak RSS (``replicate.py``) for the
whole process, this for where it goes.

    python benchmarks/memory.py scenarios/shibei-2020-whistle.yaml
"""

from __future__ import annotations

import argparse
import linecache
import tracemalloc
from typing import Any

from clock import around_event_loop, emit

from sim.config import load_scenario
from sim.experiment import simulate

TOP = 12


def lines_held(snapshot: tracemalloc.Snapshot, complaints: int) -> list[dict[str, Any]]:
    """The source lines holding the most memory in the snapshot, biggest first."""
    rows = []
    for stat in snapshot.statistics("lineno")[:TOP]:
        frame = stat.traceback[0]
        short = "/".join(frame.filename.split("/")[-2:])
        rows.append({"where": f"{short}:{frame.lineno}", "code": linecache.getline(frame.filename,
                     frame.lineno).strip()[:70], "mib": round(stat.size / 2**20, 1),
                     "bytes_per_complaint": round(stat.size / complaints)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario, args.overrides or None)
    at_loop_end: list[tuple[tracemalloc.Snapshot, int]] = []
    tracemalloc.start()
    with around_event_loop(lambda clock, cpu: at_loop_end.append(
            (tracemalloc.take_snapshot(), tracemalloc.get_traced_memory()[0]))):
        rep = simulate(scenario, 0)
    tables, peak = tracemalloc.get_traced_memory()
    snapshot, loop_end = at_loop_end[0]
    tracemalloc.stop()
    n = len(rep.complaints)
    frame_bytes = int(rep.complaints.memory_usage(deep=True).sum())
    result = {"scenario": scenario.name, "complaints": n,
              "peak_bytes_per_complaint": round(peak / n),
              "loop_end_bytes_per_complaint": round(loop_end / n),
              "tables_bytes_per_complaint": round(tables / n),
              "complaint_frame_bytes_per_complaint": round(frame_bytes / n),
              "loop_end_lines": lines_held(snapshot, n)}
    emit(result, (f"{r['bytes_per_complaint']:>6} B/complaint {r['mib']:>7.1f} MiB  {r['where']}  {r['code']}"
                  for r in result["loop_end_lines"]))

if __name__ == "__main__":
    main()
