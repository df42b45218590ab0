"""Global sensitivity: which of the assumed numbers the answer hinges on.

"Whistle resolves more problems than legacy" rests on dozens of assumed numbers: how long a
department takes, how often it dodges, how patient residents are. Changing them one at a
time from a base case misses the numbers that matter only together, and says nothing about
the ones never moved. A global design moves all of them over their ranges at once: Morris
screening (SALib's trajectories) tells the few that matter from the many that do not, and
Sobol/Saltelli says what share of an output's variance each one explains alone (S1) and with
its interactions (ST). Every design point runs its scenarios on their own seeds, so points
differ only by the parameters (common random numbers), through ``sim.study.evaluate_points``.

SALib draws its design on the unit cube; each column is mapped through its parameter's prior
quantiles (``Prior.ppf``), so a uniform prior is its range and a normal one is denser near its
mean. Morris elementary effects are taken on that unit scale: ``mu_star`` is the output's
change across a parameter's whole (quantile) range, in the output's own units.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import atomic, outdir
from sim.config import ScenarioError
from sim.executors import Executor
from sim.experiment import git_commit, versions
from sim.priors import Prior
from sim.study import (
    Output,
    SensitivityFile,
    SensitivityMethod,
    Study,
    budget_problem,
    evaluate_points,
)

COLUMNS = {"morris": ("mu_star", "mu_star_conf", "sigma"), "sobol": ("S1", "S1_conf", "ST", "ST_conf")}
RESAMPLES = 1000          # bootstrap resamples behind every confidence interval
CONFIDENCE = 0.95
UNSAFE = re.compile(r"[^A-Za-z0-9._=+@-]+")


@dataclass(frozen=True)
class Design:
    """SALib's design on the unit cube and the same points in the parameters' own units."""

    method: SensitivityMethod
    names: tuple[str, ...]
    unit: np.ndarray
    points: np.ndarray

    @property
    def problem(self) -> dict[str, Any]:
        return unit_problem(self.names)


def unit_problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem on the unit cube: the priors map it to the parameters afterwards."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def check_method(method: SensitivityMethod, source: str, where: str = "method.budget") -> None:
    """The file's method with ``--method`` or ``--budget`` changed must still make a design."""
    if (problem := budget_problem(method.method, method.budget)) is not None:
        raise ScenarioError(source, where, problem)


def make_design(priors: Sequence[Prior], names: Sequence[str], method: SensitivityMethod) -> Design:
    """Morris trajectories ((k+1) x budget points) or a Saltelli sample (budget x (k+2))."""
    from SALib.sample import morris, sobol

    problem = unit_problem(names)
    if method.method == "morris":
        unit = morris.sample(problem, method.budget, num_levels=method.levels, seed=method.seed)
    else:
        unit = sobol.sample(problem, method.budget, calc_second_order=False, seed=method.seed)
    points = np.column_stack([p.ppf(unit[:, j]) for j, p in enumerate(priors)])
    return Design(method, tuple(names), unit, points)


def analyse(design: Design, outputs: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """One row per (output, parameter): Morris ``mu_star, mu_star_conf, sigma`` or Sobol
    ``S1, S1_conf, ST, ST_conf`` (first-order and total, no second order)."""
    from SALib.analyze import morris, sobol

    m = design.method
    frames = []
    for label, y in outputs.items():
        y = np.asarray(y, dtype=float)
        if m.method == "morris":
            si = morris.analyze(design.problem, design.unit, y, num_resamples=RESAMPLES,
                                conf_level=CONFIDENCE, num_levels=m.levels, seed=m.seed)
        else:
            si = sobol.analyze(design.problem, y, calc_second_order=False, num_resamples=RESAMPLES,
                               conf_level=CONFIDENCE, seed=m.seed)
        cols = {c: np.asarray(si[c], dtype=float) for c in COLUMNS[m.method]}
        frames.append(pd.DataFrame({"output": label, "parameter": list(design.names), **cols}))
    return pd.concat(frames, ignore_index=True)


def screen(model: Callable[[np.ndarray], Mapping[str, np.ndarray]], priors: Sequence[Prior],
           names: Sequence[str], method: SensitivityMethod) -> pd.DataFrame:
    """The analysis of any model: ``model(points)`` returns each output's value at every row
    of ``points`` (parameters in their own units). Test functions plug in here."""
    design = make_design(priors, names, method)
    return analyse(design, model(design.points))


# --------------------------------------------------------------------------- the simulation
def point_outputs(rows: pd.DataFrame, outputs: Sequence[Output]) -> dict[str, float]:
    """Each output at one design point: a scenario's KPI averaged over replications, or the
    paired difference b - a averaged over replications."""
    values = {}
    for o in outputs:
        if o.diff is None:
            values[o.label] = float(rows.loc[rows["scenario"] == o.scenario, o.kpi].mean())
        else:
            a, b = (rows.loc[rows["scenario"] == s, o.kpi].to_numpy(dtype=float) for s in o.diff)
            values[o.label] = float(np.mean(b - a))
    return values


def point_key(study: Study, point: Sequence[float], replications: int) -> str:
    """The name a finished design point is stored under: a hash of the scenarios it ran and
    their replications, so a changed study never reuses a stale point."""
    text = json.dumps([replications, *(s.sha256() for s in study.scenarios_at(point).values())])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class SensitivityResult:
    """``sensitivity.csv`` as a table, every design point with its outputs, and how many
    distinct points this call ran and found already finished (Morris may repeat a point)."""

    table: pd.DataFrame
    points: pd.DataFrame
    out: Path
    ran: int
    skipped: int
    manifest: dict[str, Any]


def sensitivity(study: Study, out: str | Path, method: SensitivityMethod | None = None,
                replications: int | None = None, jobs: int | None = 1, executor: Executor = "local",
                scheduler: str | None = None, progress: bool = False) -> SensitivityResult:
    """Run the design points not yet stored under ``out/points/``, then analyse them all."""
    spec, design, count = _planned(study, method, replications)
    out = Path(out)
    started = time.perf_counter()
    keys = [point_key(study, point, count) for point in design.points]
    with outdir.folder(out, "sensitivity", {"study": study.spec.name}):
        todo = _run_missing(study, design, keys, range(len(keys)), count, out / "points", jobs,
                            executor, scheduler, progress)
        points = _stored(design, keys, range(len(keys)), out / "points", spec.outputs)
        values = points[[o.label for o in spec.outputs]]
        _check_defined(values, spec.outputs, study.source)
        table = analyse(design, {c: values[c].to_numpy() for c in values.columns})
        made = _manifest(study, spec.outputs, design.method, count, len(design.points), len(set(keys)),
                         len(todo), time.perf_counter() - started)
        _write(out, table, points, made, study.to_yaml())
    return SensitivityResult(table, points, out, len(todo), len(set(keys)) - len(todo), made)


def design_points(study: Study, out: str | Path, indices: Sequence[int],
                  method: SensitivityMethod | None = None, replications: int | None = None,
                  jobs: int | None = 1) -> pd.DataFrame:
    """The rows of ``points.csv`` for the design points ``indices`` only (run those not yet
    stored under ``out/points/``): the cells of a published design, made a few at a time."""
    spec, design, count = _planned(study, method, replications)
    out = Path(out)
    keys = [point_key(study, point, count) for point in design.points]
    with outdir.folder(out, "sensitivity", {"study": study.spec.name}):
        _run_missing(study, design, keys, indices, count, out / "points", jobs, "local", None, False)
        return _stored(design, keys, indices, out / "points", spec.outputs)


def analyse_points(study: Study, points: pd.DataFrame,
                   method: SensitivityMethod | None = None) -> pd.DataFrame:
    """The indices of a design from its stored points (``points.csv`` or published cells)."""
    spec, design, _ = _planned(study, method, None)
    if len(points) != len(design.points):
        raise ValueError(f"expected {len(design.points)} design points, got {len(points)}")
    return analyse(design, {o.label: points[o.label].to_numpy(dtype=float) for o in spec.outputs})


def _run_missing(study: Study, design: Design, keys: Sequence[str], indices: Sequence[int], count: int,
                 store: Path, jobs: int | None, executor: Executor, scheduler: str | None,
                 progress: bool) -> list[int]:
    """Run the points among ``indices`` not yet stored, storing each as it finishes."""
    indices = list(indices)
    todo = [indices[j] for j in _missing([keys[i] for i in indices], store)]
    if todo:
        finished = evaluate_points(study, design.points[todo].tolist(), count, jobs=jobs,
                                   executor=executor, scheduler=scheduler, progress=progress)
        for j, rows in finished:
            atomic.write_csv(store / f"{keys[todo[j]]}.csv", pd.DataFrame(rows).drop(columns="point"))
    return todo


def _stored(design: Design, keys: Sequence[str], indices: Sequence[int], store: Path,
            outputs: Sequence[Output]) -> pd.DataFrame:
    """``points.csv``'s rows for ``indices``: the point, its parameters, its outputs."""
    values = pd.DataFrame([point_outputs(pd.read_csv(store / f"{keys[i]}.csv"), outputs) for i in indices],
                          columns=[o.label for o in outputs])
    points = pd.DataFrame(design.points[list(indices)], columns=list(design.names))
    points = pd.concat([points, values], axis=1)
    points.insert(0, "point", list(indices))
    return points


def remake_point(study: Study, index: int, method: SensitivityMethod | None = None,
                 replications: int | None = None, jobs: int | None = 1) -> dict[str, float]:
    """The outputs of design point ``index`` made afresh, as in ``points.csv``: one cell of a
    sampled reproduction, which re-makes a few points of a large design, not all of them."""
    spec, design, count = _planned(study, method, replications)
    ((_, rows),) = evaluate_points(study, [design.points[index].tolist()], count, jobs=jobs)
    return point_outputs(pd.DataFrame(rows), spec.outputs)


def _planned(study: Study, method: SensitivityMethod | None,
             replications: int | None) -> tuple[SensitivityFile, Design, int]:
    """The file, its design (the file's method unless given) and replications per point."""
    spec = study.spec
    assert isinstance(spec, SensitivityFile)
    method = method or spec.method
    check_method(method, study.source)
    design = make_design([p.prior for p in spec.parameters], study.labels, method)
    return spec, design, replications or method.replications


def _missing(keys: Sequence[str], store: Path) -> list[int]:
    """The design points not yet stored, each distinct point once (Morris may repeat one)."""
    todo, seen = [], set()
    for i, key in enumerate(keys):
        if key not in seen and not (store / f"{key}.csv").is_file():
            todo.append(i)
        seen.add(key)
    return todo


def _check_defined(values: pd.DataFrame, outputs: Sequence[Output], source: str) -> None:
    for i, o in enumerate(outputs):
        bad_points = values.index[values[o.label].isna()].tolist()
        if bad_points:
            raise ScenarioError(source, f"outputs.{i}", f"{o.kpi} is undefined at {len(bad_points)} "
                                f"design points, the first {bad_points[0]} (expected a KPI every "
                                "point defines, e.g. a share rather than a mean over no complaints)")


def _manifest(study: Study, outputs: Sequence[Output], method: SensitivityMethod, replications: int,
              points: int, distinct: int, ran: int, seconds: float) -> dict[str, Any]:
    return {
        "kind": "sensitivity",
        "name": study.spec.name,
        "method": method.model_dump(mode="json") | {"replications": replications},
        "parameters": study.labels,
        "outputs": [o.label for o in outputs],
        "design_points": points,
        "distinct_points": distinct,
        "points_run": ran,
        "simulations_run": ran * len(study.scenarios) * replications,
        "scenarios_sha256": {a: s.sha256() for a, s in study.scenarios.items()},
        "seeds": {a: s.seed for a, s in study.scenarios.items()},
        "versions": versions() | {"SALib": _salib_version()},
        "git_commit": git_commit(),
        "wall_seconds": round(seconds, 3),
    }


def _salib_version() -> str:
    from importlib import metadata

    return metadata.version("SALib")


def _write(out: Path, table: pd.DataFrame, points: pd.DataFrame, made: dict[str, Any], spec: str) -> None:
    from sim.plots import indices

    atomic.write_text(out / "study.yaml", spec)
    atomic.write_csv(out / "points.csv", points)
    atomic.write_csv(out / "sensitivity.csv", table)
    for label, part in table.groupby("output", sort=False):
        indices(part, out / f"{UNSAFE.sub('_', str(label))}.png")
    atomic.write_text(out / "manifest.json", json.dumps(made, indent=2) + "\n")


def format_table(table: pd.DataFrame, most: int = 8) -> str:
    """The most influential parameters of each output as aligned text."""
    lead = "mu_star" if "mu_star" in table.columns else "ST"
    buf = io.StringIO()
    for label, part in table.groupby("output", sort=False):
        part = part.sort_values(lead, ascending=False).head(most)
        buf.write(f"{label}\n")
        cols = [c for c in part.columns if c not in ("output", "parameter")]
        width = max(len(p) for p in part["parameter"])
        buf.write(f"  {'parameter':<{width}}  " + "  ".join(f"{c:>12}" for c in cols) + "\n")
        for row in part.itertuples(index=False):
            cells = "  ".join(f"{getattr(row, c):>12.4g}" for c in cols)
            buf.write(f"  {row.parameter:<{width}}  {cells}\n")
    return buf.getvalue().rstrip()
