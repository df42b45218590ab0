"""The published tables and the data behind the figures: what each one computes.

T1 sets the three Shibei processes side by side. T2 takes the reform apart: the paired
difference legacy -> whistle split into the reform's elements by Shapley values over every
combination of them, on the same complaints (``govsim attribute``). T3 asks how the two
processes bear departments that dodge more and residents who complain more. T4 is the
validation table, and T5 puts the simulated figures beside published ones. T6 and T7 ask
which assumed numbers the answer hinges on: Morris screening of all of them, then Sobol
indices for the few that matter.
validation table, and T5 puts the simulated figures beside published ones. T8 to T10 and F6
come from a stored calibration (sim.calibrated): the processes over posterior draws, the
prior against the posterior, and the posterior predictive against every target.

Each maker takes the ``Bench`` (shared runs, made once per reproduction) and its manifest
entry, and returns a DataFrame; ``sim.results`` writes, compares and publishes them.

A table too costly to re-make whole in CI is made of *cells* that can be made one at a time
(T2's combinations; a calibration's particles, a Sobol design's points): its ``Cells`` in
``CELLS`` lists the cell ids, makes the rows of some cells, and computes the table from all
the cells' rows. ``govsim reproduce`` then re-makes a seeded sample of cells and compares them
with the stored ones exactly, and checks that the table follows from the stored cells.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.attribution import headline, replication_rows, run_combinations, tables
from sim.calibrated import (
    draw_cells,
    draw_ids,
    over_posterior,
    particle_cells,
    particle_ids,
    posterior_data,
    predictive,
    prior_to_posterior,
)
from sim.comparison import Comparison, compare
from sim.config import LEVELS, Scenario, load_scenario
from sim.elements import Design, design
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
            name = hashlib.sha256(repr(key).encode()).hexdigest()[:12]    # one folder per comparison
            out = self.work / f"compare-{name}"
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


@dataclass(frozen=True)
class Cells:
    """A published table made of independent cells, each of which can be made alone.

    ``ids(bench, spec)`` lists every cell's id, in the order of the cells file;
    ``make(bench, spec, ids)`` returns the rows of those cells, the cell id in the first
    column, in the order of ``ids``; ``table(bench, spec, rows)`` computes the published table
    from the rows of every cell. Making all cells and then the table is the full re-make.
    """

    ids: Callable[[Bench, Spec], list[str]]
    make: Callable[[Bench, Spec, Sequence[str]], pd.DataFrame]
    table: Callable[[Bench, Spec, pd.DataFrame], pd.DataFrame]


def _loaded(bench: Bench, spec: Spec) -> list[Scenario]:
    return [bench.scenario(path, spec.seed) for path in spec.scenarios]


# --------------------------------------------------------------------------- T1
def t1_processes(bench: Bench, spec: Spec) -> pd.DataFrame:
    """Every KPI of each scenario with its 95% CI, and the paired difference to the first."""
    return bench.comparison(_loaded(bench, spec), spec.replications).table


# --------------------------------------------------------------------------- T2
def _t2_design(bench: Bench, spec: Spec) -> Design:
    base, reform = _loaded(bench, spec)
    return design(base, reform, bench.root / spec.options["elements"])


def t2_cells(bench: Bench, spec: Spec) -> list[str]:
    """T2's cells: every combination of the reform's elements, by its bits."""
    return [c.bits for c in _t2_design(bench, spec).combinations]


def t2_make_cells(bench: Bench, spec: Spec, cells: Sequence[str]) -> pd.DataFrame:
    """Run the combinations and return each replication's headline KPIs."""
    d = _t2_design(bench, spec)
    masks = [c.mask for c in d.combinations if c.bits in set(cells)]
    out = bench.work / "t2-combinations"
    run_combinations(d, out, spec.replications, masks, jobs=bench.jobs)
    return replication_rows(d, out, masks, headline(d.base))


def t2_shapley(bench: Bench, spec: Spec, rows: pd.DataFrame) -> pd.DataFrame:
    """The Shapley values of the headline KPIs, from every combination's replications."""
    return tables(_t2_design(bench, spec), rows).attribution


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
    # a hotline's resolution rate asks the resident: every reopened closure is a ticket that
    # did not fix the problem (resolution_reported_share, docs/model.md)
    ("resolution rate before reform", 0.53, "resolution_reported_share", 0,
     "Beijing 12345, Xinhua (2019)", "H"),
    ("resolution rate after reform", 0.97, "resolution_reported_share", -1,
     "Beijing 12345, Xinhua (2024)", "H"),
    ("resolution rate, Qingdao 12345", 0.95, "resolution_reported_share", -1, "local press (2025)", "M"),
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
    "resolution rate before reform": "Beijing, not Shibei: the published figure before a reform",
    "resolution rate after reform": "Beijing, not Shibei, five years on",
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


def from_cells(make: str) -> Maker:
    """The full maker of a table made of cells: every cell, then the table."""
    cells = CELLS[make]

    def full(bench: Bench, spec: Spec) -> pd.DataFrame:
        return cells.table(bench, spec, cells.make(bench, spec, cells.ids(bench, spec)))
    return full


# --------------------------------------------------------------------------- T6, T7, F5
def _sensitivity(bench: Bench, spec: Spec) -> tuple[Any, Any]:
    """The sensitivity file the entry names (``options.study``) and its method, with the
    entry's ``budget`` if it sets one."""
    from sim.study import SensitivityFile, load_study

    study = load_study(bench.root / spec.options["study"], "sensitivity")
    assert isinstance(study.spec, SensitivityFile)
    method = study.spec.method.model_copy(update={k: v for k, v in spec.options.items() if k == "budget"})
    return study, method


def sensitivity_cells(bench: Bench, spec: Spec) -> list[str]:
    """T6's (T7's, F5's) cells: the design's points, by their index."""
    from sim.sensitivity import make_design

    study, method = _sensitivity(bench, spec)
    design = make_design([p.prior for p in study.spec.parameters], study.labels, method)
    return [f"{i:04d}" for i in range(len(design.points))]


def sensitivity_make_cells(bench: Bench, spec: Spec, cells: Sequence[str]) -> pd.DataFrame:
    """Run the design points (each point's scenarios on their own seeds) and return each
    point's parameters and outputs. Entries of one file share the points under ``work``."""
    from sim.sensitivity import design_points

    study, method = _sensitivity(bench, spec)
    rows = design_points(study, bench.work / f"sensitivity-{study.spec.name}", [int(c) for c in cells],
                         method, spec.replications, jobs=bench.jobs)
    rows["point"] = list(cells)
    return rows


def sensitivity_indices(bench: Bench, spec: Spec, rows: pd.DataFrame) -> pd.DataFrame:
    """Morris or Sobol indices from every design point's outputs, for all the file's outputs
    or those in ``options.outputs``."""
    from sim.sensitivity import analyse_points

    study, method = _sensitivity(bench, spec)
    table = analyse_points(study, rows, method)
    wanted = spec.options.get("outputs")
    return table if not wanted else table[table["output"].isin(wanted)].reset_index(drop=True)


SENSITIVITY = Cells(sensitivity_cells, sensitivity_make_cells, sensitivity_indices)
CELLS: dict[str, Cells] = {"t2": Cells(t2_cells, t2_make_cells, t2_shapley),
                           "t6": SENSITIVITY, "t7": SENSITIVITY, "f5": SENSITIVITY,
                           "t8": Cells(draw_ids, draw_cells, over_posterior),
                           "t10": Cells(particle_ids, particle_cells, predictive)}


MAKERS: dict[str, Maker] = {
    "t1": t1_processes, "t2": from_cells("t2"), "t3": t3_sensitivity, "t4": t4_validation,
    "t5": t5_published, "f1": f1_time_to_close, "f2": f2_where_resolved, "f3": t3_sensitivity,
    "f4": f4_backlog, "t6": from_cells("t6"), "t7": from_cells("t7"), "f5": from_cells("f5"),
    "t8": from_cells("t8"), "t9": prior_to_posterior, "t10": from_cells("t10"), "f6": posterior_data,
}
