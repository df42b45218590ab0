"""Compare scenarios on the same complaints: common random numbers and paired differences.

"Does forbidding bounce-back shorten the time to close?" is best answered by running the old
and the new process on the same residents with the same problems, arriving at the same
times: replication r of every scenario uses the same seed, so its arrivals are identical and
the difference between the scenarios in replication r is due to the process, not to luck.
The difference is then averaged over replications (a paired t-interval), which is much
narrower than comparing two independent intervals.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import atomic, outdir
from sim.config import Scenario, ScenarioError, load_scenario
from sim.executors import Executor
from sim.experiment import folder_manifest, manifest, plan_for, replicate, write_manifest
from sim.metrics import kpi_ci, kpi_names
from sim.runfolder import RunWriter
from sim.sequential import DEFAULT_CAP, Plan

COLUMNS = ("kpi", "scenario", "mean", "ci_low", "ci_high", "diff", "diff_ci_low", "diff_ci_high")


@dataclass
class Comparison:
    """The KPIs of each scenario by replication, and the comparison table."""

    scenarios: list[Scenario]
    kpis: dict[str, pd.DataFrame]
    table: pd.DataFrame
    plan: Plan
    out: Path | None = None

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    def format(self) -> str:
        return format_comparison(self.table, self.names, self.plan.n, self.scenarios[0].seed)

    def _repr_html_(self) -> str:
        """In a notebook, the comparison shows itself as its table."""
        from sim.report.page import notebook_html

        return notebook_html(f"{', '.join(self.names)}: {self.plan.n} replications each; diff = scenario "
                             f"- {self.names[0]}, paired by replication", self.table)


def common_seed(scenarios: Sequence[Scenario | str | Path], source: str = "compare") -> list[Scenario]:
    """The scenarios, loaded, all with the first one's seed; their names must differ."""
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    if len(loaded) < 2:
        raise ScenarioError(source, "", f"{len(loaded)} scenario given (expected at least 2)")
    names = [s.name for s in loaded]
    for name in names:
        if names.count(name) > 1:
            raise ScenarioError(source, "name", f"{name!r} appears twice (expected each scenario "
                                "to have its own name)")
    seed = loaded[0].seed
    return [s if s.seed == seed else s.with_overrides({"seed": seed}, source=source)
            for s in loaded]


def compare(scenarios: Sequence[Scenario | str | Path], replications: int | None = None,
            jobs: int | None = 1, executor: Executor = "local", scheduler: str | None = None,
            out: str | Path | None = None, progress: bool = False,
            target_halfwidth: Mapping[str, float] | None = None,
            max_replications: int = DEFAULT_CAP) -> Comparison:
    """Run every scenario with the first one's seed and compare each to the first.

    With ``out``, each scenario's run folder is written to ``out/<name>/`` as replications
    arrive, and ``comparison.csv`` beside them. ``replications`` defaults to the first
    scenario's; ``target_halfwidth`` works as in ``sim.run``, on every scenario and difference.
    """
    scenarios = common_seed(scenarios)
    plan = plan_for(scenarios[0], replications, target_halfwidth, max_replications)
    started = time.perf_counter()
    rows: list[list[dict[str, float]]] = []
    with ExitStack() as stack:
        if out is not None:
            stack.enter_context(outdir.folder(Path(out), "compare"))
        writers = ([stack.enter_context(RunWriter(Path(out) / s.name, s)) for s in scenarios]
                   if out is not None else [])
        for row in replicate(scenarios, plan, jobs, executor, scheduler, progress=progress):
            rows.append([rep.kpis for rep in row])
            for writer, rep in zip(writers, row):
                writer.add(rep.complaints, rep.kpis, rep.utilization)
        for writer in writers:
            writer.finish(manifest(writer.scenario, plan.n, time.perf_counter() - started, plan.rule()))
        kpis = {s.name: pd.DataFrame([row[i] for row in rows], columns=["replication", *kpi_names(s)])
                for i, s in enumerate(scenarios)}
        table = comparison_table(kpis)
        if out is not None:
            atomic.write_csv(Path(out) / "comparison.csv", table)
            write_manifest(out, folder_manifest("compare", scenarios, plan.n,
                                                time.perf_counter() - started))
    return Comparison(scenarios, kpis, table, plan, Path(out) if out is not None else None)


def comparison_table(kpis: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """``comparison.csv``: per KPI and scenario, the mean and CI, and the paired difference to
    the first scenario with its CI (empty for the first scenario itself)."""
    names = list(kpis)
    base = kpis[names[0]]
    shared = [k for k in base.columns if k != "replication" and all(k in f for f in kpis.values())]
    rows: list[dict[str, Any]] = []
    for kpi in shared:
        a = base[kpi].to_numpy(dtype=float)
        for name in names:
            x = kpis[name][kpi].to_numpy(dtype=float)
            mean, _, low, high, _ = kpi_ci(kpi, x)
            diff = (np.nan,) * 3 if name == names[0] else _paired(kpi, x, a)
            rows.append(dict(zip(COLUMNS, (kpi, name, mean, low, high, *diff))))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _paired(kpi: str, x: np.ndarray, a: np.ndarray) -> tuple[float, float, float]:
    mean, _, low, high, _ = kpi_ci(kpi, x - a, difference=True)
    return mean, low, high


def excludes_zero(low: float, high: float) -> bool:
    return bool(np.isfinite(low) and np.isfinite(high) and (low > 0 or high < 0))


def format_comparison(table: pd.DataFrame, names: Sequence[str], replications: int,
                      seed: int) -> str:
    """The comparison as aligned text, one block per KPI; ``*`` where the difference's CI
    excludes zero."""
    width = max(len(n) for n in names)
    means = {i: _mci(r.mean, r.ci_low, r.ci_high) for i, r in zip(table.index, table.itertuples())}
    column = max(len(m) for m in means.values())
    each = f"{replications} replication{'s' if replications != 1 else ''} each"
    lines = [f"{len(names)} scenarios, {each}, seed {seed} for all "
             "(common random numbers)",
             f"mean [95% CI]; diff = scenario - {names[0]}, paired by replication [95% CI]; "
             "* where that CI excludes 0"]
    for kpi, block in table.groupby("kpi", sort=False):
        if block["mean"].isna().all():
            continue
        lines.append("")
        lines.append(str(kpi))
        for i, row in zip(block.index, block.itertuples()):
            text = f"  {row.scenario:<{width}}  {means[i]:<{column}}"
            if row.scenario != names[0] and not pd.isna(row.diff):
                mark = " *" if excludes_zero(row.diff_ci_low, row.diff_ci_high) else ""
                text += f"  diff {_mci(row.diff, row.diff_ci_low, row.diff_ci_high, '+')}{mark}"
            lines.append(text.rstrip())
    return "\n".join(lines)


def _mci(mean: float, low: float, high: float, sign: str = "") -> str:
    if pd.isna(mean):
        return f"{'-':>10}"
    ci = "" if pd.isna(low) else f" [{low:{sign}.4g}, {high:{sign}.4g}]"
    return f"{mean:>{sign}10.4g}{ci}"
