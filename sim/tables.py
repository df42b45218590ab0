"""The published tables and the data behind the figures: what each one computes.

T1 sets the three Shibei processes side by side. T2 takes the reform apart: each of its
elements is added alone to the legacy process and removed alone from the whistle process,
on the same complaints, so the change it makes is a paired difference. T3 asks how the two
processes bear departments that dodge more and residents who complain more. T4 is the
validation table, and T5 puts the simulated figures beside published ones.

Each maker takes the ``Bench`` (shared runs, made once per reproduction) and its manifest
entry, and returns a DataFrame; ``sim.results`` writes, compares and publishes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.comparison import Comparison, compare
from sim.config import LEVELS, Scenario, load_scenario
from sim.experiment import simulate
from sim.figures import ECDF_MAX_DAYS, level_shares, run_folders, time_to_close_data
from sim.sweeps import sweep

HEADLINE = ("resolved_share", "resolved_within_30d_share", "days_to_close_mean", "satisfaction_mean")


@dataclass
class Bench:
    """Scenarios and runs shared by the entries of one reproduction, each made once."""

    root: Path            # the project folder: scenario paths are relative to it
    work: Path            # scratch space for run folders
    jobs: int | None = None
    _comparisons: dict[tuple[Any, ...], Comparison] = field(default_factory=dict)

    def scenario(self, path: str, seed: int) -> Scenario:
        return load_scenario(self.root / path).with_overrides({"seed": seed}, source=path)

    def comparison(self, scenarios: list[Scenario], replications: int) -> Comparison:
        """``sim.compare`` of the scenarios, with run folders under ``work`` (cached)."""
        key = (tuple(s.sha256() for s in scenarios), replications)
        if key not in self._comparisons:
            out = self.work / f"compare-{len(self._comparisons)}"
            self._comparisons[key] = compare(scenarios, replications, jobs=self.jobs, out=out)
        return self._comparisons[key]


@dataclass(frozen=True)
class Spec:
    """What a manifest entry asks of its maker."""

    scenarios: tuple[str, ...]
    replications: int
    seed: int
    options: dict[str, Any]


Maker = Callable[[Bench, Spec], pd.DataFrame]


def _loaded(bench: Bench, spec: Spec) -> list[Scenario]:
    return [bench.scenario(path, spec.seed) for path in spec.scenarios]


# --------------------------------------------------------------------------- T1
def t1_processes(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Every KPI of each scenario with its 95% CI, and the paired difference to the first."""
    return bench.comparison(_loaded(bench, spec), spec.replications).table


# --------------------------------------------------------------------------- T2
def reform_elements(legacy: Scenario, whistle: Scenario) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each element of the reform as (overrides that add it to legacy, overrides that remove
    it from whistle), each naming its variant (``<legacy>-plus-<element>``,
    ``<whistle>-minus-<element>``); the values come from the other scenario file."""
    elements = _element_changes(legacy, whistle)
    return {name: ({**add, "name": f"{legacy.name}-plus-{name}"},
                   {**remove, "name": f"{whistle.name}-minus-{name}"})
            for name, (add, remove) in elements.items()}


def _element_changes(legacy: Scenario, whistle: Scenario) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    lp, wp = legacy.resolved()["process"], whistle.resolved()["process"]
    legacy_route, whistle_route = list(lp["route"]), list(wp["route"])
    top = [level for level in ("platform", "leadership") if level in whistle_route]
    return {
        "grid-branches": (
            {"process.route": legacy_route if legacy_route[0] == "grid" else ["grid", *legacy_route],
             "process.grid_branches": wp["grid_branches"]},
            {"process.grid_branches": lp["grid_branches"]}),
        "grid-guides": ({"process.guides": wp["guides"]}, {"process.guides": lp["guides"]}),
        "no-bounce-back": ({"process.bounce": wp["bounce"]}, {"process.bounce": lp["bounce"]}),
        "platform-and-leading-group": (
            {"process.route": [*legacy_route, *[t for t in top if t not in legacy_route]],
             "process.top_resolves_all": wp["top_resolves_all"]},
            {"process.route": [level for level in whistle_route if level not in top],
             "process.top_resolves_all": lp["top_resolves_all"]}),
        "merged-grids": ({"process.duplicate_contacts": wp["duplicate_contacts"]},
                         {"process.duplicate_contacts": lp["duplicate_contacts"]}),
        "digital-escalation": ({"process.escalation_delay": wp["escalation_delay"]},
                               {"process.escalation_delay": lp["escalation_delay"]}),
        "lighter-pushdown": (
            {"process.pushdown.tasks_per_community_per_day": wp["pushdown"]["tasks_per_community_per_day"]},
            {"process.pushdown.tasks_per_community_per_day": lp["pushdown"]["tasks_per_community_per_day"]}),
    }


def t2_elements(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Per element and direction, the paired change in the headline KPIs."""
    legacy, whistle = _loaded(bench, spec)
    elements = reform_elements(legacy, whistle)
    frames = []
    for base, direction, pick in ((legacy, "added to legacy", 0), (whistle, "removed from whistle", 1)):
        variants = [base.with_overrides(changes[pick], source=name) for name, changes in elements.items()]
        table = bench.comparison([base, *variants], spec.replications).table
        table = table[table["kpi"].isin(HEADLINE)]
        baseline = table[table["scenario"] == base.name].set_index("kpi")["mean"]
        for name, variant in zip(elements, variants):
            rows = table[table["scenario"] == variant.name]
            frames.append(pd.DataFrame({
                "element": name, "direction": direction, "kpi": rows["kpi"].to_numpy(),
                "baseline": baseline.loc[rows["kpi"]].to_numpy(), "variant": rows["mean"].to_numpy(),
                "diff": rows["diff"].to_numpy(), "diff_ci_low": rows["diff_ci_low"].to_numpy(),
                "diff_ci_high": rows["diff_ci_high"].to_numpy()}))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- T3
def t3_sensitivity(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Headline KPIs over a grid of the varied keys, for each scenario."""
    vary = {key: list(values) for key, values in spec.options["vary"].items()}
    frames = []
    for i, scenario in enumerate(_loaded(bench, spec)):
        result = sweep(scenario, vary, out=bench.work / f"sweep-{i}", replications=spec.replications,
                       jobs=bench.jobs)
        keep = [*vary, *(f"{k}_{s}" for k in HEADLINE for s in ("mean", "ci_low", "ci_high"))]
        frames.append(result.table[keep].assign(scenario=scenario.name))
    table = pd.concat(frames, ignore_index=True)
    return table[["scenario", *[c for c in table.columns if c != "scenario"]]]


# --------------------------------------------------------------------------- T4
def t4_validation(bench: Bench, spec: Spec) -> pd.DataFrame:
    """The ``govsim validate`` table at the size the entry names."""
    from sim.validation import run_validation

    return run_validation(spec.options.get("size", "full"), jobs=bench.jobs)


# --------------------------------------------------------------------------- T5
PUBLISHED = (
    # (figure, published value, KPI, scenario index in the entry, source, confidence)
    ("resolution rate before reform", 0.53, "resolved_share", 0,
     "Beijing 12345, Xinhua (2019)", "H"),
    ("resolution rate after reform", 0.97, "resolved_share", -1, "Beijing 12345, Xinhua (2024)", "H"),
    ("resolution rate, Qingdao 12345", 0.95, "resolved_share", -1, "local press (2025)", "M"),
    ("satisfaction before reform", 0.65, "satisfaction_survey", 0, "Beijing 12345, Xinhua (2019)", "H"),
    ("satisfaction after reform", 0.973, "satisfaction_survey", -1, "Beijing 12345, Xinhua (2024)", "H"),
    ("satisfaction, Qingdao 12345", 0.958, "satisfaction_survey", -1, "local press (2020)", "M"),
    ("share solved inside the grid", 0.98, "resolved_at_grid_share", -1,
     "Shibei, local press (about 2020-21)", "M"),
    ("days to close, median", 2.9, "days_to_close_p50", 0, "NYC 311 analysis (2017)", "L-M"),
    ("days to close, median", 2.9, "days_to_close_p50", -1, "NYC 311 analysis (2017)", "L-M"),
    ("days to close, mean", 9.0, "days_to_close_mean", 0, "NYC 311 analysis (2017)", "L-M"),
    ("days to close, mean", 9.0, "days_to_close_mean", -1, "NYC 311 analysis (2017)", "L-M"),
)
NOTES = {
    "share solved inside the grid": "published share is of topics raised in the grid app; "
                                    "simulated share is of all resolved complaints",
    "days to close, median": "a different city and system; order of magnitude only",
    "days to close, mean": "a different city and system; order of magnitude only",
}


def t5_published(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Published aggregates beside the simulated values of the same measure, with the gap."""
    scenarios = _loaded(bench, spec)
    table = bench.comparison(scenarios, spec.replications).table.set_index(["kpi", "scenario"])
    rows = []
    for figure, value, kpi, index, source, confidence in PUBLISHED:
        name = scenarios[index].name
        sim_row = table.loc[(kpi, name)]
        rows.append({"figure": figure, "published": value, "source": source, "confidence": confidence,
                     "scenario": name, "kpi": kpi, "simulated": sim_row["mean"],
                     "ci_low": sim_row["ci_low"], "ci_high": sim_row["ci_high"],
                     "gap": sim_row["mean"] - value, "note": NOTES.get(figure, "")})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figure data
def f1_time_to_close(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Share of the cohort resolved within d days, by scenario (the ECDF of time to close),
    mean and 95% CI over replications."""
    comparison = bench.comparison(_loaded(bench, spec), spec.replications)
    assert comparison.out is not None
    return time_to_close_data(run_folders(comparison.out, comparison.names),
                              float(spec.options.get("max_days", ECDF_MAX_DAYS)))


def f2_where_resolved(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Share of resolved complaints resolved at each level, by scenario."""
    return level_shares(bench.comparison(_loaded(bench, spec), spec.replications).table)


def f4_backlog(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Open complaints at each level at the end of each day, in replication 0 of each scenario."""
    frames = []
    for scenario in _loaded(bench, spec):
        events = simulate(scenario, 0, events=True).events
        frames.append(open_backlog(events, scenario.horizon_days).assign(scenario=scenario.name))
    table = pd.concat(frames, ignore_index=True)
    return table[["scenario", "day", "level", "open"]]


def open_backlog(events: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """Daily count of open complaints by the level of the unit they were last sent to."""
    e = events.sort_values(["complaint_id", "day"], kind="stable")
    moves = e[e["activity"].isin(["arrive", "handoff"])]
    ends = e[e["activity"].isin(["resolve", "abandon"])].groupby("complaint_id")["day"].first()
    start = moves["day"].to_numpy()
    nxt = moves.groupby("complaint_id")["day"].shift(-1).to_numpy()
    closed = moves["complaint_id"].map(ends).to_numpy(dtype=float)
    end = np.where(np.isnan(nxt), np.where(np.isnan(closed), np.inf, closed), nxt)   # inf: still open
    days = np.arange(1, int(horizon) + 1, dtype=float)
    level = moves["level"].astype(str).to_numpy()
    frames = []
    for name in [lv for lv in LEVELS if lv in set(level)]:
        mask = level == name
        opened = np.searchsorted(np.sort(start[mask]), days, side="right")
        gone = np.searchsorted(np.sort(end[mask]), days, side="right")
        frames.append(pd.DataFrame({"day": days, "level": name, "open": opened - gone}))
    return pd.concat(frames, ignore_index=True)


MAKERS: dict[str, Maker] = {
    "t1": t1_processes, "t2": t2_elements, "t3": t3_sensitivity, "t4": t4_validation,
    "t5": t5_published, "f1": f1_time_to_close, "f2": f2_where_resolved, "f3": t3_sensitivity,
    "f4": f4_backlog,
}
