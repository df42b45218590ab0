"""What the validation cases measure in one replication: a KPI, the share of complaints
that waited, a level's mean queue, and Little's law (L = lambda W) in total and per level,
each paired within the replication so its interval is that of the ratio."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.config import LEVELS, Scenario
from sim.experiment import Replication


def measure(name: str, rep: Replication) -> float:
    """One replication's value of a measure: a KPI, or the share of complaints that waited."""
    if name == "p_wait":
        cohort = rep.complaints[rep.complaints["in_cohort"].to_numpy()]
        return float(np.mean(cohort["wait_days"].to_numpy() > 0))
    if name.startswith("mean_queue_"):
        u = rep.utilization
        return float(u.loc[u["level"] == name.removeprefix("mean_queue_"), "mean_queue"].iloc[0])
    return float(rep.kpis[name])


def little(scenario: Scenario, rep: Replication, per_level: bool) -> dict[str, tuple[float, float]]:
    """Little's law, measure -> (mean queue from the units over arrival rate x mean wait from
    the complaints, 1), over the measurement window: in total and, from the event log, per
    level. Paired per replication, so the interval is that of the ratio, not of either side."""
    window = scenario.horizon_days - scenario.warmup_days
    queue = dict(zip(rep.utilization["level"], rep.utilization["mean_queue"]))
    c = rep.complaints
    arrived = (c["arrival_day"] >= scenario.warmup_days).to_numpy()
    rate = np.count_nonzero(arrived) / window
    wait = float(c["wait_days"].to_numpy()[arrived].mean())
    out: dict[str, tuple[float, float]] = {
        "littles_law_total": _ratio(float(sum(queue.values())), rate * wait)}
    if per_level and rep.events is not None:
        for level, rate_wait in level_queue_load(scenario, rep.events).items():
            out[f"littles_law_{level}"] = _ratio(float(queue[level]), rate_wait)
    return out


def _ratio(queue: float, rate_wait: float) -> tuple[float, float]:
    """Little's law paired within the replication: L / (lambda W), which is 1 (the 'theory')."""
    if rate_wait == 0:
        return (1.0 if queue == 0 else float("inf")), 1.0
    return queue / rate_wait, 1.0


def level_queue_load(scenario: Scenario, events: pd.DataFrame) -> dict[str, float]:
    """Per level, visits queued per day times their mean wait (= total queueing days / window),
    for queues joined inside the window; a queue ends at the complaint's next start or abandon."""
    kinds = events["activity"].astype(str).to_numpy()
    e = events[np.isin(kinds, ("queue", "start", "abandon"))]
    e = e.sort_values(["complaint_id", "day"], kind="stable")
    same = e["complaint_id"].to_numpy()
    ends = np.append(e["day"].to_numpy()[1:], np.nan)
    ends[np.append(same[1:] != same[:-1], True)] = scenario.horizon_days
    day = e["day"].to_numpy()
    joined = (e["activity"].astype(str).to_numpy() == "queue") & (day >= scenario.warmup_days)
    window = scenario.horizon_days - scenario.warmup_days
    levels = e["level"].astype(str).to_numpy()
    waits = pd.Series(ends[joined] - day[joined]).groupby(levels[joined]).sum()
    active = [lv for lv in LEVELS if lv in set(events["level"].astype(str))]
    return {lv: float(waits.get(lv, 0.0)) / window for lv in active}


