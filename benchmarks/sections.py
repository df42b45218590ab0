"""The Markdown sections of the benchmark report, from the samples ``bench.py`` measured.

Every ratio is taken within one round (the two programs ran minutes apart, under nearly the
same load) and reported as the median over rounds with its range. The main figure is CPU
seconds of the whole process (interpreter start and imports included): what a user pays,
and, unlike the wall clock, barely moved by other programs on a shared machine. The
in-process figure leaves out start-up and imports.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LAM, MU, SERVERS = 3.6, 1.0, 4
MIB = 2**20
# govsim / peer, whole-process CPU, in one run; per scenario, as a multiple of the SimPy M/M/c run
TARGETS = {"simpy": 0.5, "ciw": 0.5, "jobs": 1.7, "beijing_gib": 6.0}
DETAIL = ("shibei-2019-legacy", "shibei-2020-whistle")     # scenarios whose busiest lines are listed
SHIBEI_TARGETS = {"shibei-2020-whistle": 1.0, "shibei-2019-legacy": 1.4, "shibei-2019-pilot": 1.4}


@dataclass(frozen=True)
class Sample:
    """One timed process."""

    wall: float                      # seconds, whole process
    cpu: float                       # user + system seconds, the child and its children
    rss_mib: float                   # peak resident set of the largest of those processes
    report: dict[str, Any] | None    # the JSON line the child printed, if any

    def inside(self, key: str) -> float | None:
        """A number the child reported about itself (``seconds``, ``cpu_seconds``...)."""
        return None if self.report is None else self.report.get(key)

    @property
    def net_mib(self) -> float | None:
        """Peak memory the work added over the interpreter and its imports."""
        start, peak = self.inside("rss_start_mib"), self.inside("rss_peak_mib")
        return None if start is None or peak is None else peak - start


# --------------------------------------------------------------------------- numbers
def erlang_c_wait(lam: float, mu: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C), the reference for the sanity check."""
    a, rho = lam / mu, lam / (servers * mu)
    top = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return p_wait / (servers * mu - lam)


def median_range(values: Sequence[float], fmt: str = ".2f") -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:{fmt}}"
    return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"


def count(value: Any, fmt: str = ",") -> str:
    return "" if value is None else f"{value:{fmt}}"


def field_of(samples: list[Sample], key: str) -> Any:
    """A value the child reported (the same in every round: same seed, same work)."""
    return next((s.report[key] for s in samples if s.report and s.report.get(key) is not None), None)


def of(samples: list[Sample], key: str) -> list[float]:
    """One measure of every round: ``wall``, ``cpu`` (whole process) or a reported key."""
    if key in ("wall", "cpu"):
        return [getattr(s, key) for s in samples]
    return [v for v in (s.inside(key) for s in samples) if v is not None]


def paired(top: list[Sample], bottom: list[Sample], key: str) -> list[float]:
    """Ratio of the two cases within each round."""
    return [a / b for a, b in zip(of(top, key), of(bottom, key), strict=False) if b]


def meets(value: float, target: float, at_most: bool = True) -> str:
    return "yes" if (value <= target if at_most else value >= target) else "no"


def per_complaint_kib(sample_set: list[Sample], complaints: Any) -> str:
    nets = [s.net_mib for s in sample_set if s.net_mib is not None]
    if not nets or not complaints:
        return ""
    return f"{statistics.median(nets) * 1024 / complaints:.2f}"


def timing_cells(samples: list[Sample]) -> str:
    """CPU and wall seconds, peak memory and in-process CPU of one case, as table cells."""
    return (f"{median_range(of(samples, 'cpu'))} | {median_range(of(samples, 'wall'))} "
            f"| {statistics.median(s.rss_mib for s in samples):.0f} "
            f"| {median_range(of(samples, 'cpu_seconds'))}")


TIMING_HEAD = "CPU s, whole process | wall s | peak RSS MiB | CPU s in process"


def ratio_row(label: str, top: list[Sample], bottom: list[Sample], target: float | None) -> str:
    """Whole-process and in-process CPU ratios of one round each, and the target."""
    whole = paired(top, bottom, "cpu")
    verdict = "" if target is None else f"<= {target} | {meets(statistics.median(whole), target)}"
    return (f"| {label} | {median_range(whole)} | {median_range(paired(top, bottom, 'cpu_seconds'))} "
            f"| {median_range(paired(top, bottom, 'wall'))} | {verdict or ' | '} |")


RATIO_HEAD = ["| ratio | CPU, whole process | CPU, in process | wall | target | meets |",
              "| --- | --- | --- | --- | --- | --- |"]


# --------------------------------------------------------------------------- sections
def mmc_section(samples: dict[str, list[Sample]], customers: int) -> list[str]:
    reference = erlang_c_wait(LAM, MU, SERVERS)
    lines = [f"#### M/M/c: lambda {LAM}, mu {MU}, c {SERVERS}, about {customers:,} customers", "",
             f"| case | {TIMING_HEAD} | customers | mean wait (Erlang C {reference:.3f}) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name in ("simpy", "govsim", "ciw"):
        s = samples[name]
        wait = field_of(s, "mean_wait")
        gap = f" ({(wait - reference) / reference:+.0%})" if wait is not None else ""
        lines.append(f"| {name} | {timing_cells(s)} | {count(field_of(s, 'customers'))} "
                     f"| {count(wait, '.3f')}{gap} |")
    lines += ["", "Ratios per round, median [min-max]:", "", *RATIO_HEAD]
    for peer, label in (("simpy", "govsim / SimPy"), ("ciw", "govsim / Ciw")):
        lines.append(ratio_row(label, samples["govsim"], samples[peer], TARGETS[peer]))
    lines += ["", "Mean waits agree with Erlang C only roughly: at utilisation 0.9 the mean wait of "
              "one long run varies by several percent.", ""]
    return lines


def shibei_section(samples: dict[str, list[Sample]], cases: Sequence[Any], tasks_of: dict[str, Any],
                   note: str) -> list[str]:
    lines = ["#### Shibei: one replication", "",
             f"| scenario | event log | {TIMING_HEAD} | KiB per complaint | complaints "
             "| push-down tasks | events |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for case in cases:
        s, info = samples[case.key], case.info
        complaints = field_of(s, "complaints")
        lines.append(f"| {info['scenario']} | {'yes' if info['events'] else 'no'} | {timing_cells(s)} "
                     f"| {per_complaint_kib(s, complaints)} | {count(complaints)} "
                     f"| {count(tasks_of[info['path']])} | {count(field_of(s, 'events'))} |")
    lines += ["", "KiB per complaint: peak resident memory less the memory before the replication "
              "(interpreter and imports), over complaints.", "",
              "One replication as a multiple of the SimPy M/M/c run of the same round:", "", *RATIO_HEAD]
    for case in cases:
        if not case.info["events"]:
            name = case.info["scenario"]
            lines.append(ratio_row(f"{name} / SimPy M/M/c", samples[case.key], samples["simpy"],
                                   SHIBEI_TARGETS.get(name)))
    return [*lines, *(["", note] if note else []), ""]


def jobs_section(samples: dict[str, list[Sample]], cases: Sequence[Any]) -> list[str]:
    one, two = (samples[c.key] for c in cases)
    lines = [f"#### Parallel replications: {cases[0].key.rsplit(' --jobs', 1)[0]}", "",
             "| run | wall s, median [min-max] | CPU s (all processes) | peak RSS MiB (largest process) |",
             "| --- | --- | --- | --- |"]
    for case in cases:
        s = samples[case.key]
        lines.append(f"| {case.key} | {median_range(of(s, 'wall'))} | {median_range(of(s, 'cpu'))} "
                     f"| {statistics.median(x.rss_mib for x in s):.0f} |")
    ratio = statistics.median(of(one, "wall")) / statistics.median(of(two, "wall"))
    lines += ["", f"Throughput --jobs 2 / --jobs 1: {ratio:.2f} of median wall times, per round "
              f"{median_range(paired(one, two, 'wall'))} (target >= {TARGETS['jobs']}: "
              f"meets {meets(ratio, TARGETS['jobs'], at_most=False)}).", ""]
    return lines


def raw_section(samples: dict[str, list[Sample]]) -> list[str]:
    lines = ["#### Raw CPU seconds, whole process (in round order)", ""]
    lines += [f"- {key}: {', '.join(f'{s.cpu:.2f}' for s in runs)}" for key, runs in samples.items()]
    return [*lines, ""]


def table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    return [f"| {' | '.join(head)} |", f"|{' --- |' * len(head)}",
            *(f"| {' | '.join(str(c) for c in row)} |" for row in rows), ""]


def profile_section(profiles: list[dict[str, Any]]) -> list[str]:
    """Events, calls per complaint, events per second, against the floor of SimPy's loop."""
    head = ("case", "complaints", "events", "events per complaint", "event loop CPU s",
            "share of the replication", "events per s",
            "bare SimPy events per s", "floor / govsim", "calls per complaint", "calls per event",
            "env.now per complaint")
    rows = [(p["scenario"], f"{p['complaints']:,}", f"{p['events']:,}",
             f"{p['events'] / p['complaints']:.1f}", p["loop_cpu_s"],
             f"{p['loop_cpu_s'] / p['replication_cpu_s']:.0%}", f"{p['events_per_s']:,}",
             f"{p['floor_events_per_s']:,}", p["above_floor"], p["calls_per_complaint"],
             p["calls_per_event"], now_per_complaint(p)) for p in profiles]
    lines = ["#### Profile: where the time goes (one run each, hotspots.py)", "", *table(head, rows)]
    for p in profiles:
        if p["scenario"] in DETAIL:
            lines += [f"Functions called most in {p['scenario']} (cProfile counts):", ""]
            lines += table(("calls", "per complaint", "function", "where"),
                           [(f"{r['calls']:,}", r["per_complaint"], f"`{r['function']}`", r["where"])
                            for r in p["top"]])
    return lines


def now_per_complaint(profile: dict[str, Any]) -> str:
    hits = [r["per_complaint"] for r in profile["top"] if r["function"] == "now"]
    return f"{hits[0]:.1f}" if hits else ""


def memory_section(memories: list[dict[str, Any]]) -> list[str]:
    """What Python holds per complaint (tracemalloc), and the lines that hold it."""
    head = ("scenario", "complaints", "peak B per complaint", "at the end of the event loop",
            "tables after the run", "complaint DataFrame")
    rows = [(m["scenario"], f"{m['complaints']:,}", m["peak_bytes_per_complaint"],
             m["loop_end_bytes_per_complaint"], m["tables_bytes_per_complaint"],
             m["complaint_frame_bytes_per_complaint"]) for m in memories]
    lines = ["#### Memory per complaint (one run each, memory.py, tracemalloc)", "", *table(head, rows)]
    for m in (m for m in memories if m["scenario"] in DETAIL):
        lines += [f"What {m['scenario']} holds at the end of the event loop, by source line:", ""]
        lines += table(("B per complaint", "MiB", "where", "code"),
                       [(r["bytes_per_complaint"], r["mib"], r["where"], f"`{r['code']}`")
                        for r in m["loop_end_lines"]])
    return lines


def beijing_section(sample: Sample) -> list[str]:
    """One Beijing-size replication in one process: time and peak memory against the limit."""
    complaints = sample.inside("complaints") or 0
    gib = sample.rss_mib / 1024
    rows = [(f"{complaints:,}", f"{sample.cpu:.0f}", f"{sample.wall:.0f}", f"{gib:.2f}",
             per_complaint_kib([sample], complaints), f"<= {TARGETS['beijing_gib']} GiB",
             meets(gib, TARGETS["beijing_gib"]))]
    head = ("complaints", "CPU s", "wall s", "peak RSS GiB", "KiB per complaint", "limit", "meets")
    return ["#### Beijing-size district-year: one replication in one process", "",
            "scenarios/beijing-size.yaml through benchmarks/replicate.py, measured once.", "",
            *table(head, rows)]

