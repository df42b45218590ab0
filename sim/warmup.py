"""Warm-up: how long until the district's queues look as they will for the rest of the run.

Every replication starts with empty offices, so the first weeks' complaints are handled
faster than they will be once backlogs have built up. ``warmup_days`` leaves those weeks out
of the KPIs. MSER-5 (White 1997; recommended by Hoad, Robinson and Davies 2008) chooses it:
average a daily output over replications, take means of five days, and cut off the start
where that minimises the standard error of the mean of what remains. Cutting too little
keeps the bias of the empty start; cutting too much leaves too few days to average.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from sim import atomic, outdir
from sim.config import Scenario, ScenarioError
from sim.executors import Executor
from sim.experiment import plan_for, replicate

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Measure = Literal["time-in-system", "backlog"]
MEASURES: dict[str, str] = {
    "time-in-system": "mean days in system of the day's arrivals",
    "backlog": "complaints open at the end of the day",
}
BATCH = 5
MAX_FRACTION = 0.5
"""MSER is only trusted to cut at most this share of the series (its known end effect)."""


def mser(series: np.ndarray, batch: int = BATCH, max_fraction: float = MAX_FRACTION) -> int:
    """How many observations to cut from the start of ``series`` (a multiple of ``batch``).

    MSER(d) = var(Y[d:]) / (k - d) over the k batch means Y; the cut is the d that minimises
    it, searched over the first ``max_fraction`` of the batches.
    """
    y = _fill(np.asarray(series, dtype=float))
    k = len(y) // batch
    if k < 2:
        raise ValueError(f"{len(y)} observations are too few for MSER-{batch} (expected {2 * batch}+)")
    means = y[: k * batch].reshape(k, batch).mean(axis=1)
    last = max(0, min(k - 2, int(k * max_fraction)))
    stat = [np.var(means[d:]) / (k - d) for d in range(last + 1)]
    return int(np.argmin(stat)) * batch


def _fill(y: np.ndarray) -> np.ndarray:
    """Days without a value (no arrivals) take their neighbours' values."""
    if not np.isnan(y).any():
        return y
    return pd.Series(y).interpolate(limit_direction="both").to_numpy()


def daily(complaints: pd.DataFrame, scenario: Scenario, measure: Measure) -> np.ndarray:
    """One replication's daily series of ``measure``, from day 0."""
    arrival = complaints["arrival_day"].to_numpy()
    if measure == "backlog":
        ends = np.arange(1, int(scenario.horizon_days) + 1, dtype=float)
        closed = complaints["closed_day"].to_numpy()
        return (np.searchsorted(np.sort(arrival), ends, side="right")
                - np.searchsorted(np.sort(closed[~np.isnan(closed)]), ends, side="right")).astype(float)
    days = int(scenario.horizon_days - scenario.cooldown_days)
    day = np.floor(arrival).astype(int)
    keep = day < days
    total = np.bincount(day[keep], weights=complaints["days_open"].to_numpy()[keep], minlength=days)
    count = np.bincount(day[keep], minlength=days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


@dataclass
class Warmup:
    """The daily series averaged over replications, and where MSER-5 cuts it."""

    scenario: Scenario
    measure: Measure
    replications: int
    series: pd.DataFrame
    cut_days: int

    @property
    def at_limit(self) -> bool:
        """True when the cut is the largest allowed: the horizon may be too short to tell."""
        k = len(self.series) // BATCH
        return self.cut_days >= max(0, min(k - 2, int(k * MAX_FRACTION))) * BATCH

    def describe(self) -> str:
        s = self.scenario
        text = (f"{s.name}: MSER-{BATCH} on the {MEASURES[self.measure]}, {self.replications} "
                f"replications: suggested warmup_days: {self.cut_days} "
                f"(the scenario has {s.warmup_days:g})")
        if self.at_limit:
            text += ("\n  the cut is at the limit of half the series: the run may be too short "
                     "to settle (try a longer horizon_days)")
        return text

    def save(self, out: str | Path) -> Path:
        """``warmup.csv`` (the series) and ``warmup.png`` (the plot) in folder ``out``."""
        out = Path(out)
        png = io.BytesIO()
        plot(self).savefig(png, format="png", dpi=110)
        with outdir.folder(out, "warmup"):
            atomic.write_csv(out / "warmup.csv", self.series)
            atomic.write_atomic(out / "warmup.png", lambda f: f.write(png.getvalue()))
        return out


def check_series(scenario: Scenario, measure: Measure) -> None:
    """Refuse, before running anything, a horizon too short for MSER-5's daily series."""
    days = scenario.horizon_days - (0 if measure == "backlog" else scenario.cooldown_days)
    if int(days) < 2 * BATCH:
        raise ScenarioError(scenario.name, "horizon_days", f"{int(days)} whole days of series "
                            f"(expected at least {2 * BATCH} for MSER-{BATCH}: a longer horizon_days"
                            f"{'' if measure == 'backlog' else ' or a shorter cooldown_days'})")


def warmup(scenario: Scenario, replications: int | None = None, measure: Measure = "time-in-system",
           jobs: int | None = 1, executor: Executor = "local", scheduler: str | None = None,
           progress: bool = False) -> Warmup:
    """Run the replications, average their daily series and find the MSER-5 cut."""
    if measure not in MEASURES:
        raise ValueError(f"measure {measure!r} is not one of {', '.join(MEASURES)}")
    check_series(scenario, measure)
    plan = plan_for(scenario, replications)
    series = [daily(rep.complaints, scenario, measure)
              for (rep,) in replicate([scenario], plan, jobs, executor, scheduler, progress=progress)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a day without arrivals in any replication
        mean = np.nanmean(np.vstack(series), axis=0)
    batch = np.repeat(_batch_means(_fill(mean)), BATCH)
    frame = pd.DataFrame({"day": np.arange(len(mean)), "value": mean,
                          "batch_mean": np.pad(batch, (0, len(mean) - len(batch)),
                                               constant_values=np.nan)})
    return Warmup(scenario, measure, plan.n, frame, mser(mean))


def _batch_means(y: np.ndarray) -> np.ndarray:
    k = len(y) // BATCH
    return y[: k * BATCH].reshape(k, BATCH).mean(axis=1)


def plot(result: Warmup) -> Figure:
    """The daily series, its five-day means and the suggested cut, on a figure of its own
    (no pyplot state, so it works under any backend and in a notebook)."""
    import seaborn as sns
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    data = result.series
    sns.lineplot(data=data, x="day", y="value", ax=ax, color="0.6", linewidth=0.8,
                 label=f"daily, mean of {result.replications} replications")
    sns.lineplot(data=data, x="day", y="batch_mean", ax=ax, color="C0", linewidth=1.8,
                 drawstyle="steps-post", label=f"{BATCH}-day means")
    ax.axvline(result.cut_days, color="C3", linewidth=1.5,
               label=f"MSER-{BATCH} warm-up: {result.cut_days} days")
    ax.axvline(result.scenario.warmup_days, color="0.2", linestyle="--", linewidth=1,
               label=f"scenario warmup_days: {result.scenario.warmup_days:g}")
    ax.set_xlabel("day")
    ax.set_ylabel(MEASURES[result.measure])
    ax.set_title(f"{result.scenario.name}: warm-up")
    ax.legend(loc="best", fontsize="small")
    return fig
