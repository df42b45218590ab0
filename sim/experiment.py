"""Replications: run them, here or on a cluster, and put their tables together.

A replication is the unit of work: scenario and replication index in, tables out. Its
random numbers come from child ``replication`` of the scenario's seed and from nowhere else,
so the tables do not depend on how many processes ran, on which machine, or in what order
the replications finished: they are always put back in replication order.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import Scenario, ScenarioError
from sim.district import build_district
from sim.executors import Executor, default_jobs, ordered
from sim.metrics import kpi_names, replication_kpis, summarize
from sim.model import World
from sim.records import complaint_frame, event_frame, utilization_frame
from sim.runfolder import RunWriter
from sim.sequential import DEFAULT_CAP, FIRST, Plan, check_targets
from sim.streams import replication_streams

__all__ = ["Executor", "Replication", "RunOutput", "RunResult", "plan_for", "replicate", "run",
           "simulate", "simulate_kpis", "write_run"]


class ConservationError(AssertionError):
    """A complaint was lost or counted twice: the model is wrong, not the input."""


@dataclass
class Replication:
    """The tables of one replication."""

    index: int
    complaints: pd.DataFrame
    kpis: dict[str, float]
    utilization: pd.DataFrame
    events: pd.DataFrame | None
    seconds: float


def simulate(scenario: Scenario, replication: int, events: bool = False) -> Replication:
    """Run replication ``replication`` of ``scenario`` and check conservation."""
    started = time.perf_counter()
    streams = replication_streams(scenario.seed, replication)
    world = World(scenario, build_district(scenario), streams, replication, record_events=events)
    rec = world.run()
    complaints = complaint_frame(scenario, rec)
    kpis = replication_kpis(scenario, complaints, rec, streams["residents"])
    check_conservation(complaints, kpis, expected=world.intake.drawn)
    return Replication(replication, complaints, {"replication": replication, **kpis},
                       utilization_frame(rec), event_frame(rec) if events else None,
                       time.perf_counter() - started)


def simulate_kpis(scenario: Scenario, replication: int) -> dict[str, float]:
    """Only the KPIs of one replication (conservation checked): what a study that runs many
    scenarios needs back from a worker, without shipping the complaint table."""
    return simulate(scenario, replication).kpis


def check_conservation(complaints: pd.DataFrame, kpis: dict[str, float], expected: int) -> None:
    """Every complaint that arrived ends resolved, abandoned or open, exactly once."""
    if len(complaints) != expected:
        raise ConservationError(f"{expected} complaints arrived, {len(complaints)} recorded")
    if complaints["outcome"].isna().any():
        raise ConservationError("a complaint has no outcome")
    is_open = (complaints["outcome"] == "open").to_numpy()
    if (complaints["closed_day"].isna().to_numpy() != is_open).any():
        raise ConservationError("closed_day is missing for a closed complaint or set for an open one")
    resolved = (complaints["outcome"] == "resolved").to_numpy()
    if (complaints["resolved_level"].isna().to_numpy() == resolved).any():
        raise ConservationError("resolved_level does not match the outcome")
    shares = kpis["resolved_share"] + kpis["abandoned_share"] + kpis["open_share"]
    if kpis["arrivals"] > 0 and abs(shares - 1.0) > 1e-9:
        raise ConservationError(f"outcome shares sum to {shares!r}, not 1")
    if kpis["arrivals"] != int(complaints["in_cohort"].sum()):
        raise ConservationError("kpis arrivals disagree with the complaint table")


@dataclass
class RunResult:
    """All replications of one scenario, in memory: the tables of a run folder (docs/model.md)."""

    scenario: Scenario
    complaints: pd.DataFrame
    kpis: pd.DataFrame
    utilization: pd.DataFrame
    events: pd.DataFrame | None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> pd.DataFrame:
        return summarize(self.kpis)

    def _repr_html_(self) -> str:
        """In a notebook, the run shows itself as its summary table."""
        from sim.report.page import notebook_html

        return notebook_html(f"{self.scenario.name}: {len(self.kpis)} replications, mean and 95% CI",
                             self.summary)

    def save(self, out: str | Path) -> Path:
        """Write the run folder, byte for byte as ``write_run`` would have written it."""
        with RunWriter(out, self.scenario, events=self.events is not None) as writer:
            for row in self.kpis.to_dict("records"):
                r = row["replication"]
                writer.add(_part(self.complaints, r), row, _part(self.utilization, r),
                           None if self.events is None else _part(self.events, r))
            writer.finish(self.manifest)
        return Path(out)


def _part(frame: pd.DataFrame, replication: int) -> pd.DataFrame:
    return frame[frame["replication"].to_numpy() == replication].reset_index(drop=True)


@dataclass
class RunOutput:
    """A run written to a folder: its small tables in memory, the complaints on disk."""

    out: Path
    scenario: Scenario
    kpis: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any]
    plan: Plan

    def _repr_html_(self) -> str:
        from sim.report.page import notebook_html

        return notebook_html(f"{self.scenario.name}: {len(self.kpis)} replications in {self.out}, "
                             "mean and 95% CI", self.summary)


def plan_for(scenario: Scenario, replications: int | None = None,
             target_halfwidth: Mapping[str, float] | None = None,
             max_replications: int = DEFAULT_CAP) -> Plan:
    """A fixed number of replications, or the sequential procedure when targets are given."""
    if not target_halfwidth:
        count = scenario.replications if replications is None else replications
        if count < 1:
            raise ValueError("replications must be at least 1")
        return Plan.fixed(count)
    targets = check_targets(target_halfwidth, kpi_names(scenario))
    first = FIRST if replications is None else replications
    if max_replications < first:
        raise ScenarioError("--max-replications", "", f"{max_replications} is below the "
                            f"{first} replications to start with (expected at least {first})")
    return Plan(first, max_replications, targets)


def replicate(scenarios: Sequence[Scenario], plan: Plan, jobs: int | None = 1,
              executor: Executor = "local", scheduler: str | None = None, events: bool = False,
              progress: bool = False) -> Iterator[list[Replication]]:
    """Replication r of every scenario, for r = 0, 1, ... until the plan has enough."""
    tasks = ((s, r, events) for r in range(plan.cap) for s in scenarios)
    window = (jobs or default_jobs()) * len(scenarios) if plan.sequential else None
    stream = ordered(simulate, tasks, jobs, executor, scheduler, window, count=plan.cap * len(scenarios))
    name = scenarios[0].name if len(scenarios) == 1 else f"{len(scenarios)} scenarios"
    bar = progress_bar(None if plan.sequential else plan.cap, name, progress)
    try:
        while not plan.done:
            row = [next(stream) for _ in scenarios]
            plan.add([rep.kpis for rep in row])
            bar.update(1)
            yield row
    finally:
        stream.close()
        bar.close()


def run(scenario: Scenario, replications: int | None = None, jobs: int | None = 1,
        executor: Executor = "local", scheduler: str | None = None, events: bool = False,
        progress: bool = False, target_halfwidth: Mapping[str, float] | None = None,
        max_replications: int = DEFAULT_CAP) -> RunResult:
    """Run the scenario's replications and gather their tables in memory, in replication order.

    With ``target_halfwidth`` (``{kpi: half-width}``), ``replications`` is the number to start
    with and replications are added until every target is met or ``max_replications``.
    """
    plan = plan_for(scenario, replications, target_halfwidth, max_replications)
    started = time.perf_counter()
    done = [row[0] for row in replicate([scenario], plan, jobs, executor, scheduler, events, progress)]
    kpis = pd.DataFrame([r.kpis for r in done], columns=["replication", *kpi_names(scenario)])
    return RunResult(
        scenario=scenario,
        complaints=pd.concat([r.complaints for r in done], ignore_index=True),
        kpis=kpis,
        utilization=pd.concat([r.utilization for r in done], ignore_index=True),
        events=pd.concat([r.events for r in done], ignore_index=True) if events else None,
        manifest=manifest(scenario, plan.n, time.perf_counter() - started, plan.rule()),
    )


def write_run(scenario: Scenario, out: str | Path, replications: int | None = None,
              jobs: int | None = None, executor: Executor = "local", scheduler: str | None = None,
              events: bool = False, progress: bool = False,
              target_halfwidth: Mapping[str, float] | None = None,
              max_replications: int = DEFAULT_CAP) -> RunOutput:
    """Run the scenario into folder ``out``, writing each replication as its turn comes, so
    memory holds a few replications, not all of them."""
    plan = plan_for(scenario, replications, target_halfwidth, max_replications)
    started = time.perf_counter()
    with RunWriter(out, scenario, events) as writer:
        for (rep,) in replicate([scenario], plan, jobs, executor, scheduler, events, progress):
            writer.add(rep.complaints, rep.kpis, rep.utilization, rep.events)
        made = manifest(scenario, plan.n, time.perf_counter() - started, plan.rule())
        summary = writer.finish(made)
    return RunOutput(Path(out), scenario, writer.kpi_frame(), summary, made, plan)


def progress_bar(total: int | None, name: str, enabled: bool, unit: str = "rep") -> Any:
    """A tqdm bar on the terminal's stderr; silent when piped, quiet, or in a notebook log."""
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit=unit, disable=not (enabled and sys.stderr.isatty()),
                file=sys.stderr, leave=False)


def manifest(scenario: Scenario, replications: int, wall_seconds: float,
             rule: dict[str, Any] | None = None) -> dict[str, Any]:
    """What made these results: the scenario's hash, seed, versions and commit, and the
    sequential rule's report when it chose the number of replications."""
    made = {
        "kind": "run",
        "name": scenario.name,
        "scenario_sha256": scenario.sha256(),
        "seed": scenario.seed,
        "replications": replications,
        "versions": versions(),
        "git_commit": git_commit(),
        "platform": platform.platform(),
        "wall_seconds": round(wall_seconds, 3),
    }
    if rule is not None:
        made["replication_rule"] = rule
    return made


VERSIONED = ("govsim", "simpy", "numpy", "pandas", "scipy", "pyarrow", "pydantic", "pyyaml")
"""The packages whose versions can change a run's numbers or files, in every manifest."""


def folder_manifest(kind: str, scenarios: Sequence[Scenario], replications: int, wall_seconds: float,
                    **extra: Any) -> dict[str, Any]:
    """The manifest of a folder of run folders (a compare or a sweep): what it holds and what
    made it; each run folder inside has its own."""
    return {"kind": kind, "scenarios": [s.name for s in scenarios], "seed": scenarios[0].seed,
            "replications": replications, **extra, "versions": versions(), "git_commit": git_commit(),
            "platform": platform.platform(), "wall_seconds": round(wall_seconds, 3)}


def write_manifest(out: str | Path, made: dict[str, Any]) -> None:
    import json

    from sim import atomic
    from sim.runfolder import MANIFEST

    atomic.write_text(Path(out) / MANIFEST, json.dumps(made, indent=2) + "\n")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def git_commit() -> str | None:
    """The commit of the source tree the package runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
