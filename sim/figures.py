"""The data behind the figures of a run, compare or sweep folder, and the figures themselves.

"How fast does each process close complaints?" is the ECDF of days to close; "who resolves
them?" the share resolved at each level; "who is overloaded?" the utilisation per level.
Each is computed per replication and then averaged with a 95% interval, so a figure shows
how sure the numbers are. ``govsim compare`` and ``govsim sweep`` write these figures into
their folders; ``govsim report`` and the published F1 and F2 draw from the same functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sim import plots
from sim.metrics import CONFIDENCE

ECDF_MAX_DAYS = 60.0
"""Days shown on a time-to-close figure: past two months the curves are flat."""
ECDF_STEP = 0.5
SWEEP_KPIS = ("resolved_share", "resolved_within_30d_share", "days_to_close_mean", "satisfaction_mean")


def band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% Student t interval over the rows (replications) of ``values``, per column."""
    from scipy import stats

    n = values.shape[0]
    mean = values.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def time_to_close_data(runs: Mapping[str, Path], max_days: float = ECDF_MAX_DAYS) -> pd.DataFrame:
    """Per scenario and day d: the share of the cohort resolved within d days, mean and CI
    over replications (``scenario, days, resolved_share, ci_low, ci_high``)."""
    days = np.arange(0.0, float(max_days) + ECDF_STEP, ECDF_STEP)
    frames = []
    for name, folder in runs.items():
        c = pd.read_parquet(Path(folder) / "complaints.parquet",
                            columns=["replication", "in_cohort", "outcome", "days_open"])
        cohort = c[c["in_cohort"].to_numpy()]
        shares = []
        for _, rep in cohort.groupby("replication", sort=True):
            closed = np.sort(rep.loc[(rep["outcome"] == "resolved").to_numpy(), "days_open"].to_numpy())
            shares.append(np.searchsorted(closed, days, side="right") / max(len(rep), 1))
        mean, low, high = band(np.array(shares) if shares else np.zeros((1, len(days))))
        frames.append(pd.DataFrame({"scenario": name, "days": days, "resolved_share": mean,
                                    "ci_low": low, "ci_high": high}))
    return pd.concat(frames, ignore_index=True)


def level_shares(comparison: pd.DataFrame) -> pd.DataFrame:
    """Share of resolved complaints resolved at each level, by scenario, from a comparison
    table (``scenario, level, share, ci_low, ci_high``)."""
    rows = comparison[comparison["kpi"].str.startswith("resolved_at_")]
    return pd.DataFrame({"scenario": rows["scenario"].to_numpy(),
                         "level": rows["kpi"].str.removeprefix("resolved_at_").str.removesuffix("_share"),
                         "share": rows["mean"].to_numpy(), "ci_low": rows["ci_low"].to_numpy(),
                         "ci_high": rows["ci_high"].to_numpy()})


def utilization_data(runs: Mapping[str, Path]) -> pd.DataFrame:
    """Utilisation per level and scenario, mean and CI over replications."""
    rows = []
    for name, folder in runs.items():
        table = pd.read_csv(Path(folder) / "utilization.csv")
        for level, part in table.groupby("level", sort=False):
            values = part["utilization"].to_numpy(dtype=float)[:, None]
            if np.isnan(values).all():
                continue
            mean, low, high = band(values)
            rows.append({"scenario": name, "level": level, "utilization": mean[0], "ci_low": low[0],
                         "ci_high": high[0]})
    return pd.DataFrame(rows, columns=["scenario", "level", "utilization", "ci_low", "ci_high"])


def run_folders(out: Path, names: Sequence[str]) -> dict[str, Path]:
    return {name: out / name for name in names}


def compare_figures(out: str | Path, names: Sequence[str]) -> list[Path]:
    """Write the comparison's figures into its folder: time to close, where resolved, utilisation."""
    out = Path(out)
    runs = run_folders(out, names)
    table = pd.read_csv(out / "comparison.csv")
    made = [(plots.time_to_close, time_to_close_data(runs), "time-to-close.png"),
            (plots.where_resolved, level_shares(table), "where-resolved.png"),
            (plots.utilization, utilization_data(runs), "utilization.png")]
    for draw, data, name in made:
        draw(data, out / name)
    return [out / name for _, _, name in made]


def sweep_figures(out: str | Path, keys: Sequence[str], table: pd.DataFrame | None = None) -> list[Path]:
    """Write one figure per headline KPI of a sweep into its folder (``sweep-<kpi>.png``)."""
    out = Path(out)
    table = pd.read_csv(out / "sweep.csv") if table is None else table
    paths = []
    for kpi in SWEEP_KPIS:
        if f"{kpi}_mean" in table.columns and table[f"{kpi}_mean"].notna().any():
            plots.sweep_kpi(table, list(keys), kpi, out / f"sweep-{kpi}.png")
            paths.append(out / f"sweep-{kpi}.png")
    return paths
