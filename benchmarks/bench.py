"""Time govsim against plain SimPy and Ciw, whole processes, alternating, in one run.

Each measurement is one fresh ``python`` process: its wall time (``time.perf_counter``
around the child, interpreter start and imports included) and its peak resident memory
(``os.wait4``, the child and any processes it waited for). The cases take turns, round
after round, with the order rotated every round, so a slow spell on a shared machine falls
on all of them rather than on one. Each case is reported as the median and the range over
rounds. Absolute seconds depend on the machine; the ratios between cases measured in the
same run are the result (see docs/performance.md).

Cases:
  - M/M/c (lambda 3.6, mu 1, c 4) in plain SimPy, in govsim (one department) and in Ciw;
  - one replication of each Shibei scenario, without and with the event log;
  - a 10-replication ``govsim run`` with ``--jobs 1`` and ``--jobs 2`` (throughput ratio).

    python benchmarks/bench.py --quick           # seconds: checks the script works
    python benchmarks/bench.py                   # the full measurement, on a quiet machine
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
SHIBEI = ("shibei-2019-legacy", "shibei-2019-pilot", "shibei-2020-whistle")
LAM, MU, SERVERS = 3.6, 1.0, 4
QUICK_HORIZON = ("horizon_days=60", "warmup_days=10", "cooldown_days=10")
PACKAGES = ("govsim", "simpy", "ciw", "numpy", "pandas", "pyarrow", "pydantic")
TARGETS = {"simpy": 1.5, "ciw": 0.5, "replication_s": 15.0, "jobs": 1.7}


@dataclass(frozen=True)
class Case:
    """One program to time: its command line and what the report needs to know about it."""

    key: str
    argv: tuple[str, ...]            # "{out}" stands for a fresh, empty output folder
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Sample:
    """One timed process."""

    wall: float                      # seconds, whole process
    cpu: float                       # user + system seconds, the child and its children
    rss_mib: float                   # peak resident set of the largest of those processes
    report: dict[str, Any] | None    # the JSON line the child printed, if any


# --------------------------------------------------------------------------- cases
def python(*args: str) -> tuple[str, ...]:
    return (sys.executable, *args)


def mmc_cases(customers: int) -> list[Case]:
    size = ("--customers", str(customers), "--lam", str(LAM), "--mu", str(MU),
            "--servers", str(SERVERS))
    return [Case(name, python(str(HERE / f"mmc_{name}.py"), *size))
            for name in ("simpy", "govsim", "ciw")]


def shibei_cases(overrides: tuple[str, ...]) -> list[Case]:
    sets = tuple(a for o in overrides for a in ("--set", o))
    cases = []
    for name in SHIBEI:
        path = f"scenarios/{name}.yaml"
        for events in (False, True):
            flag = ("--events",) if events else ()
            cases.append(Case(name + (" +events" if events else ""),
                              python(str(HERE / "replicate.py"), path, *flag, *sets),
                              {"scenario": name, "path": path, "events": events}))
    return cases


def jobs_cases(scenario: str, replications: int, overrides: tuple[str, ...]) -> list[Case]:
    sets = tuple(a for o in overrides for a in ("--set", o))
    return [Case(f"{scenario} x{replications} --jobs {jobs}",
                 python("-m", "sim", "run", f"scenarios/{scenario}.yaml", "--replications",
                        str(replications), "--jobs", str(jobs), "--quiet", "--out", "{out}", *sets))
            for jobs in (1, 2)]


# --------------------------------------------------------------------------- measuring
def child_env() -> dict[str, str]:
    """The environment of every child: this checkout's ``sim`` first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def measure(case: Case, env: dict[str, str]) -> Sample:
    """Run the case once as its own process; stop the bench if it fails."""
    with tempfile.TemporaryDirectory(prefix="govsim-bench-") as tmp:
        argv = [a.replace("{out}", str(Path(tmp) / "run")) for a in case.argv]
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.perf_counter()
            child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            sys.exit(f"bench: {case.key} failed (exit {child.returncode}): {shlex.join(argv)}\n"
                     + err_path.read_text(errors="replace")[-3000:])
        lines = out_path.read_text().strip().splitlines()
    rss_scale = 1 if sys.platform == "darwin" else 1024      # ru_maxrss: bytes on macOS, else KiB
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * rss_scale / 2**20, report)


def warm_up(env: dict[str, str]) -> None:
    """Import everything once, untimed, so no measurement pays for compiling bytecode."""
    subprocess.run(python("-c", "import ciw, simpy, sim.cli, sim.experiment"), cwd=ROOT, env=env,
                   check=True)


def rounds(cases: list[Case], repeats: int, env: dict[str, str]) -> dict[str, list[Sample]]:
    """Every case once per round, the order rotated by one each round."""
    samples: dict[str, list[Sample]] = {c.key: [] for c in cases}
    for r in range(repeats):
        shift = r % len(cases)
        for case in cases[shift:] + cases[:shift]:
            s = measure(case, env)
            samples[case.key].append(s)
            print(f"[{r + 1}/{repeats}] {case.key}: {s.wall:.2f} s, {s.rss_mib:.0f} MiB",
                  file=sys.stderr, flush=True)
    return samples


# --------------------------------------------------------------------------- numbers
def erlang_c_wait(lam: float, mu: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C), the reference for the sanity check."""
    a, rho = lam / mu, lam / (servers * mu)
    top = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)
    return p_wait / (servers * mu - lam)


def median_range(values: list[float], fmt: str = ".2f") -> str:
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:{fmt}}"
    return f"{statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]"


def walls(samples: list[Sample]) -> list[float]:
    return [s.wall for s in samples]


def timing_cells(samples: list[Sample]) -> str:
    """Wall time, peak memory and in-process time of one case, as table cells."""
    inside = [s.report["seconds"] for s in samples if s.report and "seconds" in s.report]
    return (f"{median_range(walls(samples))} | {statistics.median(s.rss_mib for s in samples):.0f} "
            f"| {median_range(inside)}")


def count(value: Any, fmt: str = ",") -> str:
    return "" if value is None else f"{value:{fmt}}"


def field_of(samples: list[Sample], key: str) -> Any:
    """A value the child reported (the same in every round: same seed, same work)."""
    for s in samples:
        if s.report is not None and s.report.get(key) is not None:
            return s.report[key]
    return None


def paired_ratios(top: list[Sample], bottom: list[Sample]) -> list[float]:
    """Ratio of the two cases' wall times within each round."""
    return [a.wall / b.wall for a, b in zip(top, bottom)]


def pushdown_tasks(path: str, overrides: tuple[str, ...], replication: int = 0) -> int | None:
    """Push-down tasks drawn in one replication (drawn again here, outside any timing)."""
    sys.path.insert(0, str(ROOT))
    try:
        from sim.arrivals import draw_pushdown
        from sim.config import load_scenario
        from sim.district import build_district
        from sim.streams import replication_streams

        scenario = load_scenario(ROOT / path, list(overrides) or None)
        days, _ = draw_pushdown(scenario, build_district(scenario),
                                replication_streams(scenario.seed, replication)["pushdown"])
        return len(days)
    except Exception as exc:            # internals moved: report what we can, not crash
        print(f"bench: could not count push-down tasks: {exc!r}", file=sys.stderr)
        return None
    finally:
        sys.path.remove(str(ROOT))


def meets(value: float, target: float, at_most: bool = True) -> str:
    return "yes" if (value <= target if at_most else value >= target) else "no"


# --------------------------------------------------------------------------- report
def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = []
    for dist in PACKAGES:
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} not installed")
    return [f"- machine: {platform.platform()}; {cpu}; {os.cpu_count()} logical CPUs ({usable} usable)",
            f"- python {platform.python_version()} ({platform.python_implementation()}); "
            + ", ".join(versions),
            f"- checkout: {git_describe()}"]


def git_describe() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim", "benchmarks"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {head}" + (" with uncommitted changes in sim/ or benchmarks/" if dirty else "")


def mmc_section(samples: dict[str, list[Sample]], customers: int) -> list[str]:
    reference = erlang_c_wait(LAM, MU, SERVERS)
    lines = [f"#### M/M/c: lambda {LAM}, mu {MU}, c {SERVERS}, about {customers:,} customers", "",
             "| case | wall s, median [min-max] | peak RSS MiB | in-process s | customers "
             f"| mean wait (Erlang C {reference:.3f}) |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in ("simpy", "govsim", "ciw"):
        s = samples[name]
        wait = field_of(s, "mean_wait")
        gap = f" ({(wait - reference) / reference:+.0%})" if wait is not None else ""
        lines.append(f"| {name} | {timing_cells(s)} | {count(field_of(s, 'customers'))} "
                     f"| {count(wait, '.3f')}{gap} |")
    g = samples["govsim"]
    lines += ["", "| ratio | of medians | per round, median [min-max] | target | meets |",
              "| --- | --- | --- | --- | --- |"]
    for peer, label in (("simpy", "govsim / SimPy"), ("ciw", "govsim / Ciw")):
        ratio = statistics.median(walls(g)) / statistics.median(walls(samples[peer]))
        lines.append(f"| {label} | {ratio:.2f} | {median_range(paired_ratios(g, samples[peer]))} "
                     f"| <= {TARGETS[peer]} | {meets(ratio, TARGETS[peer])} |")
    lines += ["", "govsim / SimPy goal: <= 1.0. Mean waits agree with Erlang C only roughly: at "
              "utilisation 0.9 the mean wait of one long run varies by several percent.", ""]
    return lines


def shibei_section(samples: dict[str, list[Sample]], cases: list[Case],
                   overrides: tuple[str, ...]) -> list[str]:
    lines = ["#### Shibei: one replication", "",
             "| scenario | event log | wall s, median [min-max] | peak RSS MiB | in-process s "
             "| complaints | push-down tasks | events |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    slowest = 0.0
    paths = dict.fromkeys(c.info["path"] for c in cases)
    tasks_of = {path: pushdown_tasks(path, overrides) for path in paths}
    for case in cases:
        s, info = samples[case.key], case.info
        slowest = max(slowest, statistics.median(walls(s))) if not info["events"] else slowest
        lines.append(f"| {info['scenario']} | {'yes' if info['events'] else 'no'} | {timing_cells(s)} "
                     f"| {count(field_of(s, 'complaints'))} | {count(tasks_of[info['path']])} "
                     f"| {count(field_of(s, 'events'))} |")
    target = TARGETS["replication_s"]
    lines += ["", f"Slowest replication without the event log: {slowest:.2f} s "
              f"(target <= {target:g} s, goal <= 5 s: meets {meets(slowest, target)}).", ""]
    if overrides:
        lines[-2] += f" Shortened for --quick: {', '.join(overrides)}."
    return lines


def jobs_section(samples: dict[str, list[Sample]], cases: list[Case]) -> list[str]:
    one, two = (samples[c.key] for c in cases)
    lines = [f"#### Parallel replications: {cases[0].key.rsplit(' --jobs', 1)[0]}", "",
             "| run | wall s, median [min-max] | CPU s (all processes) | peak RSS MiB (largest process) |",
             "| --- | --- | --- | --- |"]
    for case in cases:
        s = samples[case.key]
        lines.append(f"| {case.key} | {median_range(walls(s))} | {median_range([x.cpu for x in s])} "
                     f"| {statistics.median(x.rss_mib for x in s):.0f} |")
    ratio = statistics.median(walls(one)) / statistics.median(walls(two))
    per_round = median_range(paired_ratios(one, two))
    lines += ["", f"Throughput --jobs 2 / --jobs 1: {ratio:.2f} of medians, per round {per_round} "
              f"(target >= {TARGETS['jobs']}: meets {meets(ratio, TARGETS['jobs'], at_most=False)}).", ""]
    return lines


def raw_section(samples: dict[str, list[Sample]]) -> list[str]:
    lines = ["#### Raw wall times (s, in round order)", ""]
    lines += [f"- {key}: {', '.join(f'{s.wall:.2f}' for s in runs)}" for key, runs in samples.items()]
    return [*lines, ""]


def sanity(samples: dict[str, list[Sample]]) -> None:
    """Print each M/M/c mean wait beside Erlang C: a rough check, never a failure."""
    reference = erlang_c_wait(LAM, MU, SERVERS)
    waits = ", ".join(f"{name} {count(field_of(samples[name], 'mean_wait'), '.3f')}"
                      for name in ("simpy", "govsim", "ciw"))
    print(f"sanity: M/M/c mean wait {waits}; Erlang C {reference:.3f}", file=sys.stderr)


# --------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, help="rounds over all cases (default 5; 2 with --quick)")
    p.add_argument("--customers", type=int, help="M/M/c customers (default 200000; 5000 with --quick)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes, to check the script works; the numbers mean nothing")
    p.add_argument("--skip-shibei", action="store_true", help="no Shibei replications")
    p.add_argument("--skip-jobs", action="store_true", help="no --jobs 1 vs --jobs 2 run (the long one)")
    p.add_argument("--jobs-scenario", default="shibei-2020-whistle", choices=SHIBEI,
                   help="scenario of the --jobs run (default: %(default)s)")
    p.add_argument("--jobs-replications", type=int, help="replications of the --jobs run (default 10; 2 "
                   "with --quick)")
    p.add_argument("--out", type=Path, help="Markdown report (default benchmarks/results.md; "
                   "benchmarks/results-quick.md with --quick)")
    args = p.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 5)
    args.customers = args.customers or (5_000 if args.quick else 200_000)
    args.jobs_replications = args.jobs_replications or (2 if args.quick else 10)
    args.out = args.out or HERE / ("results-quick.md" if args.quick else "results.md")
    if min(args.repeats, args.customers, args.jobs_replications) < 1:
        p.error("--repeats, --customers and --jobs-replications must be at least 1")
    return args


def header(args: argparse.Namespace, argv: list[str], cases: int, load: tuple[float, float],
           seconds: float) -> list[str]:
    """Date, command, machine, versions, load: what a reader needs to weigh the numbers."""
    command = shlex.join(["python", "benchmarks/bench.py", *argv])
    note = " (--quick: tiny sizes, the numbers mean nothing)" if args.quick else ""
    return ["### govsim benchmark", "",
            f"- date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"- command: `{command}`{note}",
            *machine(),
            f"- load average (1 min) before / after: {load[0]:.2f} / {load[1]:.2f}; "
            f"bench took {seconds:.0f} s",
            f"- method: {args.repeats} rounds over {cases} cases, order rotated each round; each "
            "measurement is one whole process (interpreter start and imports included); "
            "median [min-max] over rounds. See docs/performance.md.", ""]


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    overrides = QUICK_HORIZON if args.quick else ()
    shibei = [] if args.skip_shibei else shibei_cases(overrides)
    jobs = [] if args.skip_jobs else jobs_cases(args.jobs_scenario, args.jobs_replications, overrides)
    env = child_env()
    warm_up(env)
    load_before, started = os.getloadavg()[0], time.perf_counter()
    samples = rounds(mmc_cases(args.customers) + shibei + jobs, args.repeats, env)
    load = (load_before, os.getloadavg()[0])
    sanity(samples)

    lines = header(args, argv, len(samples), load, time.perf_counter() - started)
    lines += mmc_section(samples, args.customers)
    if shibei:
        lines += shibei_section(samples, shibei, overrides)
    if jobs:
        lines += jobs_section(samples, jobs)
    lines += raw_section(samples)
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)

if __name__ == "__main__":
    main()
