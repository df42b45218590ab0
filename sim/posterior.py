"""The posterior of a calibration, as tables a reader can check and scenarios a user can run.

The last generation of an ABC-SMC run is a weighted sample of parameter values. Its
weighted quantiles say what the targets allow (``posterior.csv``); the KPIs its particles
produced are draws from the posterior predictive, set against each target
(``predictive.csv``); its medians, written into the scenario files, are the calibrated
scenarios. See DESIGN section 9 and docs/calibration.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import atomic
from sim.priors import describe_prior
from sim.study import Study

if TYPE_CHECKING:
    from sim.calibrate import Calibration

QUANTILES = (0.05, 0.5, 0.95)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                       qs: tuple[float, ...] = QUANTILES) -> list[float]:
    """Quantiles of a weighted sample (the inverse of its weighted empirical distribution,
    interpolated at the middle of each particle's weight)."""
    values, weights = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    values, weights = values[weights > 0], weights[weights > 0]      # no weight, no say
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order] / weights.sum()
    middle = np.cumsum(w) - w / 2
    return [float(np.interp(q, middle, v)) for q in qs]


def particles(study: Study, history: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last generation: its parameters with ``weight``, and each particle's KPIs."""
    from sim.calibrate import stat_names

    frame, weights = history.get_distribution(m=0, t=history.max_t)
    posterior = frame[study.labels].reset_index(drop=True).astype(float)
    posterior["weight"] = np.asarray(weights, dtype=float)
    stat_weights, stats = history.get_weighted_sum_stats(t=history.max_t)
    predictive = pd.DataFrame([{k: float(s[k]) for k in stat_names(study)} for s in stats])
    predictive["weight"] = np.asarray(stat_weights, dtype=float)
    return posterior, predictive


def posterior_table(study: Study, posterior: pd.DataFrame) -> pd.DataFrame:
    """``parameter, prior, mean, median, q05, q95``: what the targets made of each prior."""
    rows = []
    w = posterior["weight"].to_numpy()
    for label, p in zip(study.labels, study.parameters, strict=True):
        values = posterior[label].to_numpy()
        q05, median, q95 = weighted_quantiles(values, w)
        rows.append({"parameter": label, "prior": describe_prior(p.prior),
                     "mean": float(np.average(values, weights=w)), "median": median,
                     "q05": q05, "q95": q95})
    return pd.DataFrame(rows)


def predictive_table(study: Study, predictive: pd.DataFrame) -> pd.DataFrame:
    """``scenario, kpi, target, sd, median, q05, q95, within_90``: each target against the
    KPIs the posterior particles produced (``within_90``: the target is inside their 90%)."""
    from sim.calibrate import spec_of, stat_names

    rows = []
    w = predictive["weight"].to_numpy()
    for name, t in zip(stat_names(study), spec_of(study).targets, strict=True):
        values = predictive[name].to_numpy()
        keep = np.isfinite(values)
        q05, median, q95 = (weighted_quantiles(values[keep], w[keep]) if keep.any()
                            else [float("nan")] * 3)
        rows.append({"scenario": t.scenario, "kpi": t.kpi, "target": t.value, "sd": t.sd,
                     "median": median, "q05": q05, "q95": q95,
                     "within_90": bool(q05 <= t.value <= q95)})
    return pd.DataFrame(rows)


def notes(table: pd.DataFrame, source: str) -> dict[str, str]:
    """The comment of each calibrated line: median, 90% interval, prior and the file."""
    return {r.parameter: f"posterior median, 90% [{r.q05:.4g}, {r.q95:.4g}], prior {r.prior} "
                         f"({source})" for r in table.itertuples()}


def write_outputs(study: Study, history: Any, out: Path, manifest: dict[str, Any]) -> Calibration:
    """Every output of DESIGN section 9 from the history, the manifest last."""
    from sim.calibrate import MANIFEST, Calibration, calibrated_yaml

    posterior, predictive = particles(study, history)
    summary = posterior_table(study, posterior)
    checked = predictive_table(study, predictive)
    with atomic.open_atomic(out / "posterior.parquet") as f:
        posterior.to_parquet(f, index=False)
    atomic.write_csv(out / "posterior.csv", summary)
    atomic.write_csv(out / "predictive.csv", checked)
    medians = dict(zip(summary["parameter"], summary["median"], strict=True))
    for alias in study.scenarios:
        text = calibrated_yaml(study, alias, medians, notes(summary, study.source), study.source)
        atomic.write_text(out / "calibrated" / f"{alias}.yaml", text)
    from sim.plots import posterior as draw

    draw(posterior_long(study, posterior), out / "posterior.png")
    manifest = {**manifest, "particles": len(posterior),
                "simulations": sum(g["simulations"] for g in manifest["generations"])
                * len(study.scenarios) * study.spec.method.replications}       # type: ignore[union-attr]
    atomic.write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return Calibration(out, posterior, summary, checked, manifest)


def read_posterior(out: str | Path) -> pd.DataFrame:
    """A calibration folder's (or a published copy's) particles with their weights."""
    return pd.read_parquet(Path(out) / "posterior.parquet")


def posterior_long(study: Study, posterior: pd.DataFrame) -> pd.DataFrame:
    """The particles as ``parameter, value, weight, low, high``: the data of the posterior figure."""
    parts = []
    for label, p in zip(study.labels, study.parameters, strict=True):
        low, high = p.prior.bounds()
        parts.append(pd.DataFrame({"parameter": label, "value": posterior[label],
                                   "weight": posterior["weight"], "low": low, "high": high}))
    return pd.concat(parts, ignore_index=True)
