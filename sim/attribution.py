"""What buys what: the reform's paired effect on every KPI split into its elements.

``govsim attribute BASE REFORM`` runs every combination of the reform's elements (see
``sim.elements``) on the same complaints: each combination is a run folder with the base's
seed, so replication r of every combination sees the same residents with the same problems.
In each replication the combinations' KPIs form a game, and its Shapley values split the
paired difference REFORM - BASE of that replication exactly; the table gives their mean over
replications with a t-interval. Combinations already finished under DIR are not run again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import atomic, outdir, shapley
from sim.config import Scenario
from sim.elements import Design, design
from sim.executors import Executor
from sim.experiment import git_commit, versions
from sim.metrics import kpi_names, mean_ci
from sim.runfolder import finished
from sim.sweeps import run_into_folders

HEADLINE = ("resolved_share", "resolution_reported_share", "days_to_close_mean",
            "satisfaction_mean", "satisfaction_survey")
ATTRIBUTION_COLUMNS = ("kpi", "element", "shapley", "ci_low", "ci_high", "share", "note")
INTERACTION_COLUMNS = ("kpi", "element_a", "element_b", "interaction", "ci_low", "ci_high", "note")
STRUCTURAL = "structural zero"
"""Note of a value that is exactly 0 because the combinations it compares are identical."""
UNDEFINED = "undefined"
"""Note of a KPI that some combination does not have (e.g. a level's utilization when it is off the route)."""


def headline(scenario: Scenario) -> list[str]:
    """The headline KPIs the model has."""
    names = set(kpi_names(scenario))
    return [k for k in HEADLINE if k in names]


@dataclass
class Attribution:
    """The tables of an attribution and where they were written."""

    design: Design
    attribution: pd.DataFrame
    combinations: pd.DataFrame
    interactions: pd.DataFrame
    out: Path | None = None
    ran: int = 0
    skipped: int = 0


# --------------------------------------------------------------------------- running
def run_combinations(d: Design, out: Path, replications: int, masks: Sequence[int] | None = None,
                     jobs: int | None = 1, executor: Executor = "local", scheduler: str | None = None,
                     progress: bool = False) -> tuple[int, int]:
    """Run the combinations (all, or those of ``masks``) not yet finished under ``out``;
    return how many ran and how many were skipped."""
    chosen = [c for c in d.combinations if masks is None or c.mask in set(masks)]
    todo = [c for c in chosen if not finished(out / c.folder, c.scenario, replications)]
    run_into_folders(todo, out, replications, jobs, executor, scheduler, progress,
                done_before=len(chosen) - len(todo), label="attribute", complaints=False)
    return len(todo), len(chosen) - len(todo)


def replication_rows(d: Design, out: Path, masks: Sequence[int] | None = None,
                     kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """Every replication's KPIs of the combinations, read back from their folders:
    ``combination`` (the bits), ``replication``, then the KPIs."""
    frames = []
    for c in d.combinations:
        if masks is None or c.mask in set(masks):
            frame = pd.read_csv(out / c.folder / "kpis.csv")
            keep = ["replication", *(kpis if kpis is not None else kpi_names(d.base))]
            frames.append(frame[keep].assign(combination=c.bits))
    table = pd.concat(frames, ignore_index=True)
    return table[["combination", *[col for col in table.columns if col != "combination"]]]


# --------------------------------------------------------------------------- the game
def game(d: Design, rows: pd.DataFrame) -> tuple[list[str], dict[int, np.ndarray]]:
    """The KPIs, and each combination's values as an array (replication, KPI)."""
    kpis = [c for c in rows.columns if c not in ("combination", "replication")]
    values = {}
    by_bits = {bits: frame for bits, frame in rows.groupby("combination", sort=False)}
    for c in d.combinations:
        frame = by_bits[c.bits].sort_values("replication")
        values[c.mask] = frame[kpis].to_numpy(dtype=float)
    reps = {v.shape[0] for v in values.values()}
    if len(reps) != 1:
        raise ValueError("combinations have different numbers of replications")
    return kpis, values


def tables(d: Design, rows: pd.DataFrame) -> Attribution:
    """attribution.csv, combinations.csv and interactions.csv from every combination's rows."""
    kpis, values = game(d, rows)
    full = (1 << len(d.elements)) - 1
    total = values[full] - values[0]
    if d.exact:
        stacked = np.stack([values[m] for m in range(full + 1)])
        per_rep = shapley.exact(stacked)                          # (k, R, K)
        zero = np.stack([_structural(shapley.marginals(stacked, i)) for i in range(len(d.elements))])
        pairs, joint = shapley.interactions(stacked)
        inter = _interaction_table(d, kpis, pairs, joint)
        spread = np.zeros_like(per_rep[:, 0, :])
    else:
        marginal = shapley.sampled(values, d.orders)             # (P, k, R, K)
        per_rep = marginal.mean(axis=0)
        zero = np.all(marginal == 0, axis=(0, 2))                 # (k, K)
        inter = pd.DataFrame(columns=list(INTERACTION_COLUMNS))
        spread = _order_error(marginal)
    magnitude = np.abs(np.stack(list(values.values())))
    scale = np.nanmax(np.where(np.isfinite(magnitude), magnitude, 0.0), axis=(0, 1))   # per KPI
    shapley.check_efficiency(per_rep, total, scale)
    table = _attribution_table(d, kpis, per_rep, total, zero, spread)
    return Attribution(d, table, _combination_table(d, kpis, values), inter)


def _structural(marginal: np.ndarray) -> np.ndarray:
    """Per KPI, whether every marginal effect (combinations, replications) is exactly zero."""
    return np.all(marginal == 0, axis=(0, 1))


def _order_error(marginal: np.ndarray) -> np.ndarray:
    """Standard error of the sampled estimate from the choice of orders: over antithetic
    pairs, of each pair's mean effect averaged over replications; shape (k, K)."""
    pairs = marginal.reshape(-1, 2, *marginal.shape[1:]).mean(axis=1).mean(axis=2)   # (Q, k, K)
    if len(pairs) < 2:
        return np.full(pairs.shape[1:], np.nan)
    return pairs.std(axis=0, ddof=1) / np.sqrt(len(pairs))


def _interval(x: np.ndarray, extra_se: float = 0.0) -> tuple[float, float, float]:
    """Mean over replications and its 95% t-interval, widened by an independent error."""
    mean, std, low, high, n = mean_ci(x)
    if extra_se and np.isfinite(low):
        half = (high - mean) * np.sqrt(1 + (extra_se / (std / np.sqrt(n))) ** 2) if std > 0 else np.nan
        low, high = mean - half, mean + half
    return mean, low, high


def _row(kpi: str, name: str, x: np.ndarray, total: float, zero: bool, extra: float = 0.0) -> dict[str, Any]:
    if zero:
        return dict(zip(ATTRIBUTION_COLUMNS, (kpi, name, 0.0, np.nan, np.nan, 0.0, STRUCTURAL)))
    if not np.isfinite(x).all():
        return dict(zip(ATTRIBUTION_COLUMNS, (kpi, name, np.nan, np.nan, np.nan, np.nan, UNDEFINED)))
    mean, low, high = _interval(x, extra)
    share = mean / total if total else np.nan
    return dict(zip(ATTRIBUTION_COLUMNS, (kpi, name, mean, low, high, share, "")))


def _attribution_table(d: Design, kpis: list[str], per_rep: np.ndarray, total: np.ndarray,
                       zero: np.ndarray, spread: np.ndarray) -> pd.DataFrame:
    rows = []
    for j, kpi in enumerate(kpis):
        t = total[:, j]
        t_mean = float(np.mean(t)) if np.isfinite(t).all() else np.nan
        for i, name in enumerate(d.names):
            rows.append(_row(kpi, name, per_rep[i, :, j], t_mean, bool(zero[i, j]), float(spread[i, j])))
        rows.append(_row(kpi, "total", t, t_mean, bool(np.all(t == 0))))
    return pd.DataFrame(rows, columns=list(ATTRIBUTION_COLUMNS))


def _interaction_table(d: Design, kpis: list[str], pairs: list[tuple[int, int]],
                       joint: np.ndarray) -> pd.DataFrame:
    """One row per KPI and pair: the mean interaction index over replications and its CI."""
    rows = []
    for j, kpi in enumerate(kpis):
        for p, (a, b) in enumerate(pairs):
            row = _row(kpi, "", joint[p, :, j], 0.0, bool(np.all(joint[p, :, j] == 0)))
            rows.append(dict(zip(INTERACTION_COLUMNS, (kpi, d.names[a], d.names[b], row["shapley"],
                                                       row["ci_low"], row["ci_high"], row["note"]))))
    return pd.DataFrame(rows, columns=list(INTERACTION_COLUMNS))


def _combination_table(d: Design, kpis: list[str], values: dict[int, np.ndarray]) -> pd.DataFrame:
    """One row per combination: which elements it has, the first earlier combination whose
    KPIs are identical in every replication (``same_as``), then each KPI's mean and CI."""
    rows: list[dict[str, Any]] = []
    seen: dict[bytes, str] = {}
    for c in d.combinations:
        v = values[c.mask]
        key = v.tobytes()
        row: dict[str, Any] = {"combination": c.bits,
                               **{n: int(c.mask >> i & 1) for i, n in enumerate(d.names)},
                               "elements": bin(c.mask).count("1"), "same_as": seen.get(key, "")}
        seen.setdefault(key, c.bits)
        for j, kpi in enumerate(kpis):
            mean, _, low, high, _ = mean_ci(v[:, j])
            row.update({f"{kpi}_mean": mean, f"{kpi}_ci_low": low, f"{kpi}_ci_high": high})
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the command
def attribute(base: Scenario, reform: Scenario, elements: str | Path | None = None,
              replications: int | None = None, out: str | Path | None = None, jobs: int | None = 1,
              executor: Executor = "local", scheduler: str | None = None,
              progress: bool = False, pairs: int | None = None) -> Attribution:
    """Run every combination not yet finished under ``out`` and write the attribution tables,
    a waterfall figure per headline KPI and ``manifest.json`` (last)."""
    from sim.elements import PERMUTATION_PAIRS

    started = time.perf_counter()
    d = design(base, reform, elements, pairs or PERMUTATION_PAIRS)
    out = Path(out) if out is not None else Path("runs") / f"attribute-{base.name}-{reform.name}"
    count = base.replications if replications is None else replications
    with outdir.folder(out, "attribute", folder_marker(base, reform)):
        ran, skipped = run_combinations(d, out, count, jobs=jobs, executor=executor,
                                        scheduler=scheduler, progress=progress)
        result = tables(d, replication_rows(d, out))
        result.out, result.ran, result.skipped = out, ran, skipped
        write(result, out, count, time.perf_counter() - started)
    return result


def folder_marker(base: Scenario, reform: Scenario) -> dict[str, str]:
    """What an attribute folder belongs to: a re-run continues it, another pair is refused."""
    return {"base_sha256": base.sha256(), "reform_sha256": reform.sha256()}


def write(result: Attribution, out: Path, replications: int, seconds: float) -> None:
    """The tables, the waterfalls, and the manifest last (a folder with it is whole)."""
    from sim.plots import waterfall

    d = result.design
    (out / "manifest.json").unlink(missing_ok=True)
    atomic.write_csv(out / "attribution.csv", result.attribution)
    atomic.write_csv(out / "combinations.csv", result.combinations)
    atomic.write_csv(out / "interactions.csv", result.interactions)
    atomic.write_csv(out / "elements.csv", element_table(d))
    for kpi in headline(d.base):
        waterfall(result.attribution, kpi, base_level(result, kpi), out / f"waterfall-{kpi}.png")
    made = {
        "kind": "attribute", "name": f"attribute-{d.base.name}-{d.reform.name}",
        "base": d.base.name, "reform": d.reform.name,
        "base_sha256": d.base.sha256(), "reform_sha256": d.reform.sha256(),
        "seed": d.base.seed, "replications": replications,
        "elements": {name: list(keys) for name, keys in d.elements.items()},
        "elements_without_difference": list(d.idle),
        "method": "exact: all 2^k combinations" if d.exact else
                  f"sampled: {len(d.orders)} orders in antithetic pairs (an order and its reverse)",
        "combinations": len(d.combinations), "ran": result.ran, "skipped": result.skipped,
        "versions": versions(), "git_commit": git_commit(), "wall_seconds": round(seconds, 3),
    }
    atomic.write_text(out / "manifest.json", json.dumps(made, indent=2) + "\n")


def element_table(d: Design) -> pd.DataFrame:
    """``elements.csv``: each element's keys with the base's and the reform's value."""
    rows = [{"element": name, "key": key, "base": json.dumps(d.values[key][0]),
             "reform": json.dumps(d.values[key][1])} for name, keys in d.elements.items() for key in keys]
    return pd.DataFrame(rows, columns=["element", "key", "base", "reform"])


def base_level(result: Attribution, kpi: str) -> float:
    """The base's mean of the KPI: the combination with no element."""
    row = result.combinations.iloc[0]
    return float(row[f"{kpi}_mean"])


def format_attribution(result: Attribution, kpis: Sequence[str] | None = None) -> str:
    """The headline KPIs' Shapley values as aligned text, the elements then the total."""
    d = result.design
    lines = [f"{d.reform.name} - {d.base.name}, split into {len(d.elements)} elements by Shapley "
             f"values ({'exact' if d.exact else 'sampled orders'}); mean [95% CI] over replications"]
    if d.idle:
        lines.append(f"left out, no key of theirs differs: {', '.join(d.idle)}")
    table = result.attribution
    width = max(len(n) for n in [*d.names, "total"])
    for kpi in kpis or headline(d.base):
        lines.append("")
        lines.append(kpi)
        for row in table[table["kpi"] == kpi].itertuples():
            ci = f" [{row.ci_low:+.4g}, {row.ci_high:+.4g}]" if np.isfinite(row.ci_low) else ""
            note = f"  ({row.note})" if isinstance(row.note, str) and row.note else ""
            lines.append(f"  {row.element:<{width}}  {row.shapley:>+10.4g}{ci}{note}")
    return "\n".join(lines)
