"""Time govsim against plain SimPy and Ciw, whole processes, alternating, in one run.

Each measurement is one fresh ``python`` process: its CPU seconds and peak resident memory
(``os.wait4``, the child and any processes it waited for), its wall time
(``time.perf_counter`` around the child, interpreter start and imports included), and what
the child says about itself (CPU seconds inside Python, memory before its work). The cases
take turns, round after round, with the order rotated every round, so a slow spell on a
shared machine falls on all of them rather than on one. Ratios are taken within each round
and reported as the median and range over rounds. Absolute seconds depend on the machine;
the ratios between cases measured in the same run are the result (see docs/performance.md).

Cases, in rounds:
  - M/M/c (lambda 3.6, mu 1, c 4) in plain SimPy, in govsim (one department) and in Ciw;
  - one replication of each Shibei scenario, without and with the event log;
  - a 10-replication ``govsim run`` with ``--jobs 1`` and ``--jobs 2`` (throughput ratio).
Once each, after the rounds: ``--profile`` (hotspots.py: events, calls per complaint, events
per second), ``--memory`` (memory.py: bytes per complaint and the lines that hold them),
``--beijing`` (one replication of scenarios/beijing-size.yaml: time and peak memory);
``--all`` is all of it.

    python benchmarks/bench.py --quick           # a minute: checks the script works
    python benchmarks/bench.py --all             # the whole table, on a quiet machine
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import sections as report
from sections import LAM, MU, SERVERS, Sample, count, erlang_c_wait, field_of

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
SHIBEI = ("shibei-2019-legacy", "shibei-2019-pilot", "shibei-2020-whistle")
QUICK_HORIZON = ("horizon_days=60", "warmup_days=10", "cooldown_days=10")
QUICK_BEIJING = ("horizon_days=6", "warmup_days=1", "cooldown_days=1")
PACKAGES = ("govsim", "simpy", "ciw", "numpy", "pandas", "pyarrow", "pydantic")
BEIJING = "scenarios/beijing-size.yaml"


@dataclass(frozen=True)
class Case:
    """One program to time: its command line and what the report needs to know about it."""

    key: str
    argv: tuple[str, ...]            # "{out}" stands for a fresh, empty output folder
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


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


def once_cases(args: argparse.Namespace, overrides: tuple[str, ...]) -> list[Case]:
    """The programs run once after the rounds: profiles, memory, the Beijing-size run."""
    sets = tuple(a for o in overrides for a in ("--set", o))
    cases = []
    if args.profile:
        cases.append(Case("profile mmc", python(str(HERE / "hotspots.py"), "--mmc", str(args.customers)),
                          {"kind": "profile"}))
        cases += [Case(f"profile {name}", python(str(HERE / "hotspots.py"), f"scenarios/{name}.yaml",
                                                 *sets), {"kind": "profile"}) for name in SHIBEI]
    if args.memory:
        cases += [Case(f"memory {name}", python(str(HERE / "memory.py"), f"scenarios/{name}.yaml", *sets),
                       {"kind": "memory"}) for name in SHIBEI]
    if args.beijing:
        short = tuple(a for o in QUICK_BEIJING for a in ("--set", o)) if overrides else ()
        cases.append(Case("beijing-size", python(str(HERE / "replicate.py"), BEIJING, *short),
                          {"kind": "beijing"}))
    return cases


# --------------------------------------------------------------------------- measuring
def child_env() -> dict[str, str]:
    """The environment of every child: this checkout's ``sim`` first on the path, and
    bytecode cached as an installed package has it (so no child pays for compiling)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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
    p.add_argument("--profile", action="store_true", help="events, calls per complaint, events per second")
    p.add_argument("--memory", action="store_true", help="bytes per complaint and the lines that hold them")
    p.add_argument("--beijing", action="store_true", help=f"one replication of {BEIJING}: time, peak memory")
    p.add_argument("--all", action="store_true", help="everything: rounds, --profile, --memory, --beijing")
    p.add_argument("--out", type=Path, help="Markdown report (default benchmarks/results.md; "
                   "benchmarks/results-quick.md with --quick)")
    args = p.parse_args(argv)
    if args.all:
        args.profile = args.memory = args.beijing = True
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
            "measurement is one whole process (interpreter start and imports included); ratios "
            "within a round, median [min-max] over rounds; CPU seconds unless said. See "
            "docs/performance.md.", ""]


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
    once = {c.key: (c, measure(c, env)) for c in once_cases(args, overrides)}
    load = (load_before, os.getloadavg()[0])
    sanity(samples)

    lines = header(args, argv, len(samples), load, time.perf_counter() - started)
    lines += report.mmc_section(samples, args.customers)
    if shibei:
        tasks_of = {c.info["path"]: pushdown_tasks(c.info["path"], overrides) for c in shibei}
        note = f"Shortened for --quick: {', '.join(overrides)}." if overrides else ""
        lines += report.shibei_section(samples, shibei, tasks_of, note)
    if jobs:
        lines += report.jobs_section(samples, jobs)
    lines += once_sections(once)
    lines += report.raw_section(samples)
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)


def once_sections(once: dict[str, tuple[Case, Sample]]) -> list[str]:
    """The report's sections of the programs run once: profiles, memory, Beijing."""
    by_kind: dict[str, list[Sample]] = {}
    for case, sample in once.values():
        by_kind.setdefault(case.info["kind"], []).append(sample)
    lines: list[str] = []
    if "profile" in by_kind:
        lines += report.profile_section([s.report for s in by_kind["profile"] if s.report])
    if "memory" in by_kind:
        lines += report.memory_section([s.report for s in by_kind["memory"] if s.report])
    if "beijing" in by_kind:
        lines += report.beijing_section(by_kind["beijing"][0])
    return lines


if __name__ == "__main__":
    main()
