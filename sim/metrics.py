"""Key performance indicators per replication, and their confidence intervals.

KPIs are computed over the cohort: complaints that arrived after the warm-up and before the
cool-down, so that neither an empty start nor an unfinished end biases them. Each
replication gives one value per KPI; the summary is the mean over replications with a 95%
Student t interval, the textbook method for independent replications.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import LEVELS, Scenario, sla_label
from sim.records import ReplicationRecords

SUMMARY_COLUMNS = ("kpi", "mean", "std", "ci_low", "ci_high", "replications")
CONFIDENCE = 0.95


def kpi_names(scenario: Scenario) -> list[str]:
    """The KPI columns of ``kpis.csv``, in order."""
    return [
        "arrivals", "resolved_share", "abandoned_share", "open_share",
        *(f"resolved_within_{sla_label(d)}d_share" for d in scenario.sla_days),
        "days_to_close_mean", "days_to_close_p50", "days_to_close_p90", "wait_days_mean",
        "handoffs_mean", "bounces_mean", "contacts_mean", "reopens_mean", "resolution_reported_share",
        *(f"resolved_at_{level}_share" for level in LEVELS),
        "satisfaction_mean", "satisfaction_survey",
        *(f"utilization_{level}" for level in LEVELS),
        "pushdown_share_of_community_time",
    ]


def replication_kpis(scenario: Scenario, complaints: pd.DataFrame, rec: ReplicationRecords,
                     survey_rng: np.random.Generator) -> dict[str, float]:
    """One row of ``kpis.csv``: every KPI of one replication."""
    cohort = complaints[complaints["in_cohort"].to_numpy()]
    n = len(cohort)
    outcome = cohort["outcome"].cat.codes.to_numpy()
    resolved = outcome == 0
    close_days = cohort["days_open"].to_numpy()[resolved]
    k: dict[str, float] = {"arrivals": float(n)}
    for name, code in (("resolved", 0), ("abandoned", 1), ("open", 2)):
        k[f"{name}_share"] = _share(outcome == code, n)
    for d in scenario.sla_days:
        k[f"resolved_within_{sla_label(d)}d_share"] = _share(close_days <= d, n)
    k["days_to_close_mean"] = _mean(close_days)
    k["days_to_close_p50"] = _quantile(close_days, 0.5)
    k["days_to_close_p90"] = _quantile(close_days, 0.9)
    for column in ("wait_days", "handoffs", "bounces", "contacts", "reopens"):
        k[f"{column}_mean"] = _mean(cohort[column].to_numpy())
    k["resolution_reported_share"] = reported_resolution(resolved, cohort["reopens"].to_numpy())
    level_codes = cohort["resolved_level"].cat.codes.to_numpy()[resolved]
    for i, level in enumerate(LEVELS):
        k[f"resolved_at_{level}_share"] = _share(level_codes == i, len(level_codes))
    p = cohort["satisfied_p"].to_numpy()
    k["satisfaction_mean"] = _mean(p)
    k["satisfaction_survey"] = survey(p, scenario.satisfaction.survey_size, survey_rng)
    for row in rec.levels:
        k[f"utilization_{row['level']}"] = row["utilization"] if row["active"] else float("nan")
    k["pushdown_share_of_community_time"] = (
        rec.pushdown_days / rec.community_staff_days if rec.community_staff_days else float("nan"))
    return k


def reported_resolution(resolved: np.ndarray, reopens: np.ndarray) -> float:
    """The hotline's count: each complaint's final state (closure, abandonment, still open)
    is one ticket and each closure that did not fix the problem (a reopen) one more; the
    share of tickets that fixed it. Without reopens it is ``resolved_share``."""
    tickets = len(resolved) + int(reopens.sum())
    return float(resolved.sum()) / tickets if tickets else float("nan")


def survey(p: np.ndarray, size: int, rng: np.random.Generator) -> float:
    """Share satisfied among ``size`` residents asked at random, as a third-party survey does."""
    if size == 0 or len(p) == 0:
        return float("nan")
    asked = rng.choice(len(p), size=min(size, len(p)), replace=False)
    return float(np.mean(rng.random(len(asked)) < p[asked]))


def summarize(kpis: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation and 95% t-interval of each KPI over replications."""
    if kpis.columns.duplicated().any():
        raise ValueError(f"two KPI columns share a name: {list(kpis.columns[kpis.columns.duplicated()])}")
    rows = []
    for name in [c for c in kpis.columns if c != "replication"]:
        mean, std, low, high, n = kpi_ci(name, kpis[name].to_numpy(dtype=float))
        rows.append({"kpi": name, "mean": mean, "std": std, "ci_low": low, "ci_high": high,
                     "replications": n})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def kpi_range(kpi: str) -> tuple[float, float]:
    """Where a KPI's values lie: shares and probabilities in [0, 1], counts and days >= 0."""
    if kpi.endswith("_share") or kpi.startswith(("satisfaction_", "utilization_", "pushdown_share")):
        return 0.0, 1.0
    return 0.0, float("inf")


def kpi_ci(kpi: str, values: np.ndarray, difference: bool = False) -> tuple[float, float, float, float, int]:
    """``mean_ci`` with the interval kept inside the KPI's range (for a paired difference of
    shares, inside [-1, 1]): a t-interval of a share over few replications can leave [0, 1]."""
    mean, std, low, high, n = mean_ci(values)
    lo, hi = kpi_range(kpi)
    if difference:
        lo = -hi
    return mean, std, max(low, lo), min(high, hi), n


def mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float, int]:
    """Mean, std, interval bounds and count of the finite values (NaN where undefined)."""
    x = values[np.isfinite(values)]
    n = len(x)
    if n == 0:
        return (float("nan"),) * 4 + (0,)  # type: ignore[return-value]
    mean = float(x.mean())
    if n == 1:
        return mean, float("nan"), float("nan"), float("nan"), 1
    # Student's t quantile: scipy.special's (what ``scipy.stats.t.ppf`` computes), imported
    # here; scipy.stats would cost a run three times as long to import
    from scipy.special import stdtrit

    std = float(x.std(ddof=1))
    half = float(stdtrit(n - 1, (1 + confidence) / 2)) * std / np.sqrt(n)
    return mean, std, mean - half, mean + half, n


def _share(mask: np.ndarray, n: int) -> float:
    return float(np.count_nonzero(mask)) / n if n else float("nan")


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else float("nan")


def _quantile(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if len(x) else float("nan")
