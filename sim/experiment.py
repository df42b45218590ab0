"""Replications: run them, here or on a cluster, and put their tables together.

A replication is the unit of work: scenario and replication index in, tables out. Its
random numbers come from child ``replication`` of the scenario's seed and from nowhere else,
so the tables do not depend on how many processes ran, on which machine, or in what order
the replications finished: they are always put back in replication order.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from sim import atomic
from sim.config import Scenario
from sim.district import build_district
from sim.metrics import kpi_names, replication_kpis, summarize
from sim.model import World
from sim.records import complaint_frame, event_frame, utilization_frame
from sim.streams import replication_streams

Executor = Literal["local", "dask"]


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
    check_conservation(complaints, kpis, expected=len(world.stream))
    return Replication(replication, complaints, {"replication": replication, **kpis},
                       utilization_frame(rec), event_frame(rec) if events else None,
                       time.perf_counter() - started)


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
    """All replications of one scenario: the tables of DESIGN section 5."""

    scenario: Scenario
    complaints: pd.DataFrame
    kpis: pd.DataFrame
    utilization: pd.DataFrame
    events: pd.DataFrame | None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> pd.DataFrame:
        return summarize(self.kpis)

    def save(self, out: str | Path) -> Path:
        """Write every output file atomically; the manifest last, as the sign of a whole run."""
        out = Path(out)
        atomic.write_text(out / "scenario.yaml", self.scenario.to_yaml())
        atomic.write_parquet(out / "complaints.parquet", self.complaints)
        atomic.write_csv(out / "kpis.csv", self.kpis)
        atomic.write_csv(out / "summary.csv", self.summary)
        atomic.write_csv(out / "utilization.csv", self.utilization)
        if self.events is not None:
            atomic.write_parquet(out / "events.parquet", self.events)
        atomic.write_text(out / "manifest.json", json.dumps(self.manifest, indent=2) + "\n")
        return out


def run(scenario: Scenario, replications: int | None = None, jobs: int | None = 1,
        executor: Executor = "local", scheduler: str | None = None, events: bool = False,
        progress: bool = False) -> RunResult:
    """Run the scenario's replications and gather their tables, in replication order."""
    count = scenario.replications if replications is None else replications
    if count < 1:
        raise ValueError("replications must be at least 1")
    started = time.perf_counter()
    done = sorted(_replications(scenario, range(count), jobs, executor, scheduler, events, progress),
                  key=lambda r: r.index)
    kpis = pd.DataFrame([r.kpis for r in done], columns=["replication", *kpi_names(scenario)])
    result = RunResult(
        scenario=scenario,
        complaints=pd.concat([r.complaints for r in done], ignore_index=True),
        kpis=kpis,
        utilization=pd.concat([r.utilization for r in done], ignore_index=True),
        events=pd.concat([r.events for r in done], ignore_index=True) if events else None,
    )
    result.manifest = manifest(scenario, count, time.perf_counter() - started)
    return result


def _replications(scenario: Scenario, indices: Iterable[int], jobs: int | None, executor: Executor,
                  scheduler: str | None, events: bool, progress: bool) -> Iterator[Replication]:
    indices = list(indices)
    bar = _progress(len(indices), scenario.name, progress)
    try:
        if executor == "dask":
            source = _dask(scenario, indices, jobs, scheduler, events)
        elif (jobs or os.cpu_count() or 1) == 1 or len(indices) == 1:
            source = (simulate(scenario, i, events) for i in indices)
        else:
            source = _pool(scenario, indices, jobs or os.cpu_count() or 1, events)
        for rep in source:
            bar.update(1)
            yield rep
    finally:
        bar.close()


def _pool(scenario: Scenario, indices: list[int], jobs: int, events: bool) -> Iterator[Replication]:
    with ProcessPoolExecutor(max_workers=min(jobs, len(indices))) as pool:
        futures = [pool.submit(simulate, scenario, i, events) for i in indices]
        for future in as_completed(futures):
            yield future.result()


def _dask(scenario: Scenario, indices: list[int], jobs: int | None, scheduler: str | None,
          events: bool) -> Iterator[Replication]:
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    cluster = None if address else LocalCluster(n_workers=jobs or os.cpu_count() or 1,
                                                threads_per_worker=1, processes=True,
                                                dashboard_address=None)
    client = Client(address or cluster)
    try:
        futures = client.map(simulate, [scenario] * len(indices), indices, [events] * len(indices),
                             pure=False)
        for future in dask_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _progress(total: int, name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="rep", disable=not (enabled and sys.stderr.isatty()),
                file=sys.stderr, leave=False)


def manifest(scenario: Scenario, replications: int, wall_seconds: float) -> dict[str, Any]:
    """What made these results: the scenario's hash, seed, versions and commit."""
    return {
        "name": scenario.name,
        "scenario_sha256": scenario.sha256(),
        "seed": scenario.seed,
        "replications": replications,
        "versions": versions(),
        "git_commit": git_commit(),
        "platform": platform.platform(),
        "wall_seconds": round(wall_seconds, 3),
    }


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("govsim", "simpy", "numpy", "pandas"):
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
