"""Published results over the posterior: the answers, with the uncertainty of the calibrated
numbers in them, re-made from a stored posterior without running the calibration again.

A calibration leaves a weighted sample of parameter values (``posterior.parquet``). Draw a
few dozen of them, run legacy, pilot and whistle at each draw on the same complaints, and
the spread of a KPI over the draws is what the targets leave uncertain plus the simulation
noise, not the noise alone; so is the spread of the reform's effect. One draw is one cell:
it depends only on the stored posterior, the draw's index and the seed, so any sample of
cells can be re-made alone and compared exactly. The prior-to-posterior table, the
posterior predictive (each particle re-simulated on its own seed, which gives back the
KPIs the calibration saw) and the posterior figure's data come from the same files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.executors import ordered
from sim.study import CalibrationFile, Study, evaluate, load_study

if TYPE_CHECKING:
    from sim.tables import Bench, Spec

QS = (0.05, 0.5, 0.95)


def stored(bench: Bench, spec: Spec) -> tuple[Study, pd.DataFrame]:
    """The entry's calibration file, loaded, and its stored posterior particles."""
    study = load_study(bench.root / spec.options["calibration"], "calibration")
    return study, pd.read_parquet(bench.root / spec.options["posterior"])


def draw_indices(posterior: pd.DataFrame, draws: int, seed: int) -> np.ndarray:
    """``draws`` particles resampled by weight (the posterior as equal-weight draws), seeded."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, draws]))
    weights = posterior["weight"].to_numpy(dtype=float)
    return rng.choice(len(posterior), size=draws, replace=True, p=weights / weights.sum())


def draw_seeds(seed: int, draws: int) -> list[int]:
    """One simulation seed per draw, shared by every scenario of the draw (common random numbers)."""
    return [int(s.generate_state(1, np.uint32)[0]) for s in np.random.SeedSequence(seed).spawn(draws)]


def entry_study(bench: Bench, spec: Spec, study: Study) -> Study:
    """The entry's scenarios (legacy, pilot, whistle) as a study whose parameters reach each
    of them as they reach the calibrated scenario it stands with (``options.as``)."""
    from sim.config import load_scenario

    names = [Path(p).stem for p in spec.scenarios]
    standing = dict(zip(names, spec.options["as"], strict=True))
    scenarios = {n: load_scenario(bench.root / p) for n, p in zip(names, spec.scenarios, strict=True)}
    parameters = tuple(p.model_copy(update={"scenarios": tuple(
        n for n in names if standing[n] in (p.scenarios or study.scenarios))}) for p in study.parameters)
    assert isinstance(study.spec, CalibrationFile)
    calibration = study.spec.model_copy(update={"scenarios": {n: spec.scenarios[i] for i, n in
                                                              enumerate(names)},
                                                "parameters": parameters})
    return Study(calibration, scenarios, study.source)


def draw_ids(bench: Bench, spec: Spec) -> list[str]:
    """T8's cells: the posterior draws, by their index."""
    return [f"{i:03d}" for i in range(int(spec.options["draws"]))]


def draw_cells(bench: Bench, spec: Spec, cells: Sequence[str] | None = None) -> pd.DataFrame:
    """The KPI means over ``spec.replications`` of every scenario at each draw (all draws, or
    the listed cells): one row per (draw, scenario), the draw's id first."""
    study, posterior = stored(bench, spec)
    runs = entry_study(bench, spec, study)
    count = int(spec.options["draws"])
    picked = draw_indices(posterior, count, spec.seed)
    seeds = draw_seeds(spec.seed, count)
    chosen = [int(c) for c in (draw_ids(bench, spec) if cells is None else cells)]
    points = [posterior.loc[picked[i], study.labels].to_numpy(dtype=float).tolist() for i in chosen]
    rows = evaluate(runs, points, spec.replications, seeds=[seeds[i] for i in chosen], jobs=bench.jobs)
    rows.insert(0, "draw", [f"{chosen[i]:03d}" for i in rows["point"]])
    means = rows.drop(columns=["point", "replication"]).groupby(["draw", "scenario"], sort=False).mean()
    return means.reset_index()


def over_posterior(bench: Bench, spec: Spec, cells: pd.DataFrame) -> pd.DataFrame:
    """T8: each KPI of each scenario over the posterior draws (median, 90%), and the paired
    difference to the first scenario, draw by draw."""
    names = list(dict.fromkeys(cells["scenario"]))
    kpis = [c for c in cells.columns if c not in ("draw", "scenario")]
    wide = cells.set_index(["scenario", "draw"])
    rows = []
    for kpi in kpis:
        base = wide.loc[names[0], kpi]
        for name in names:
            values = wide.loc[name, kpi]
            q05, q50, q95 = _quantiles(values.to_numpy(dtype=float))
            d05, d50, d95 = _quantiles((values - base).to_numpy(dtype=float))
            rows.append({"kpi": kpi, "scenario": name, "median": q50, "q05": q05, "q95": q95,
                         "diff_median": d50, "diff_q05": d05, "diff_q95": d95, "draws": len(values)})
    return pd.DataFrame(rows)


def _quantiles(values: np.ndarray) -> list[float]:
    """5%, 50% and 95% of the draws a KPI was defined in (none: NaN, as in kpis.csv)."""
    values = values[~np.isnan(values)]
    return [float(q) for q in np.quantile(values, QS)] if len(values) else [float("nan")] * 3


def prior_to_posterior(bench: Bench, spec: Spec) -> pd.DataFrame:
    """T9: each parameter's prior beside its posterior mean, median and 90% interval."""
    from sim.posterior import posterior_table

    study, posterior = stored(bench, spec)
    return posterior_table(study, posterior)


def particle_ids(bench: Bench, spec: Spec) -> list[str]:
    """T10's cells: the stored posterior's particles, by their row."""
    return [f"{i:03d}" for i in range(len(stored(bench, spec)[1]))]


def particle_cells(bench: Bench, spec: Spec, cells: Sequence[str]) -> pd.DataFrame:
    """Each listed particle re-simulated on its own seed (so the calibration's own KPIs come
    back, number for number): its id, weight and the KPI of every target. Particles already
    simulated under ``work/particles-<name>`` (the layout of a calibration's ``particles``
    folder, keyed by everything a particle's KPIs depend on) are read, not run again."""
    from sim.calibrate import PARTICLES, ParticleModel

    study, posterior = stored(bench, spec)
    chosen = [int(c) for c in cells]
    model = ParticleModel(study, bench.work / f"{PARTICLES}-{study.spec.name}")
    tasks = ((dict(zip(study.labels, posterior.loc[i, study.labels].tolist(), strict=True)),)
             for i in chosen)
    stats = pd.DataFrame(list(ordered(model, tasks, bench.jobs)))
    stats.insert(0, "particle", [f"{i:03d}" for i in chosen])
    stats.insert(1, "weight", posterior["weight"].to_numpy()[chosen])
    return stats


def predictive(bench: Bench, spec: Spec, cells: pd.DataFrame) -> pd.DataFrame:
    """T10: each target against the KPIs of every posterior particle."""
    from sim.posterior import predictive_table

    study, _ = stored(bench, spec)
    return predictive_table(study, cells)


def posterior_data(bench: Bench, spec: Spec) -> pd.DataFrame:
    """F6's data: every particle's value of every parameter, with its weight and prior range."""
    from sim.posterior import posterior_long

    study, posterior = stored(bench, spec)
    return posterior_long(study, posterior)
