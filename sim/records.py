"""Records of a run: flat columns during the run, DataFrames once at the end.

During the run the model only appends tuples and bumps counters. When a replication ends,
its complaints become one column per attribute (numpy), its event log one list of tuples,
and its levels one row each; pandas is touched only here and only after the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.config import LEVELS, Scenario
from sim.units import FLOAT_FIELDS, INT_FIELDS, columns

if TYPE_CHECKING:
    from sim.model import World

OUTCOMES = ("resolved", "abandoned", "open")
COMPLAINT_COLUMNS = (
    "replication", "complaint_id", "arrival_day", "grid", "community", "street", "category",
    "needs", "unclear", "entry_level", "outcome", "closed_day", "days_open", "resolved_level",
    "handoffs", "bounces", "contacts", "reopens", "wait_days", "lead_days", "in_cohort", "satisfied_p",
)
UTILIZATION_COLUMNS = ("replication", "level", "staff_days", "busy_days", "utilization", "mean_queue")
EVENT_COLUMNS = ("replication", "complaint_id", "day", "activity", "level", "unit")


class Activity(IntEnum):
    ARRIVE = 0
    QUEUE = 1
    START = 2
    HANDOFF = 3
    ESCALATE = 4
    BOUNCE = 5
    RESOLVE = 6
    STALL = 7
    FOLLOW_UP = 8
    ABANDON = 9
    REOPEN = 10


ACTIVITIES = tuple(a.name.lower() for a in Activity)


@dataclass
class ReplicationRecords:
    """What one replication produced, ready to become tables (and cheap to pickle)."""

    replication: int
    complaints: dict[str, np.ndarray]
    levels: list[dict[str, Any]]
    pushdown_days: float
    community_staff_days: float
    events: np.ndarray | None

    @classmethod
    def from_world(cls, world: World) -> ReplicationRecords:
        s, cs, d, facts = world.scenario, world.complaints, world.district, world.intake
        ints, floats = columns(cs)           # compiled: one pass over the complaints
        field = {**{name: np.asarray(v) for name, v in zip(INT_FIELDS, ints)},
                 **{name: np.asarray(v) for name, v in zip(FLOAT_FIELDS, floats)}}
        ids, grid = field["id"], field["grid"]
        outcome = field["outcome"].astype(np.int8)

        def column(attribute: str, dtype: Any) -> np.ndarray:
            return field[attribute].astype(dtype, copy=False)

        def fact(values: Any, dtype: Any) -> np.ndarray:       # a typed array (librt.vecs)
            return np.asarray(values, dtype=dtype)[ids]

        table = {
            "complaint_id": ids,
            "arrival_day": fact(facts.day, float),
            "grid": grid,
            "community": d.community_of_grid[grid],
            "street": d.street_of_grid[grid],
            "category": fact(facts.category, np.int64),
            "needs": fact(facts.needs, np.int64),
            "unclear": fact(facts.unclear, bool),
            "entry_level": column("entry_level", np.int8),
            "outcome": outcome,
            "closed_day": column("closed_day", float),
            "resolved_level": np.where(outcome == 0, field["level"], -1).astype(np.int8),
            "handoffs": column("handoffs", np.int32),
            "bounces": column("bounces", np.int32),
            "contacts": column("contacts", np.int32),
            "reopens": column("reopens", np.int32),
            "wait_days": column("wait", float),
            "lead_days": column("lead", float),
        }
        window = s.horizon_days - s.warmup_days
        levels = [_level_row(world, stats, window) for stats in world.levels]
        events = None
        if world.events is not None:
            events = np.array(world.events, dtype=[("complaint_id", np.int64), ("day", float),
                                                   ("activity", np.int8), ("level", np.int8),
                                                   ("unit", np.int32)])
        community = world.levels[1]
        return cls(world.replication, table, levels, community.pushdown_days,
                   community.staff * community.units * window, events)


def _level_row(world: World, stats: Any, window: float) -> dict[str, Any]:
    """Time-averaged load of one level over the measurement window."""
    active = stats.index in world.rules.route or (stats.index == 1 and world.intake.tasks > 0)
    meets = stats.index == LEVELS.index("leadership") and world.scenario.levels.leadership.meets
    if meets:
        per_meeting = world.scenario.levels.leadership.items_per_meeting
        offered = stats.meetings * per_meeting if per_meeting else 0
        staff_days = busy_days = float("nan")
        utilization = stats.taken / offered if offered else float("nan")
    else:
        staff_days = float(stats.staff * stats.units * window)
        busy_days = stats.busy_days
        utilization = busy_days / staff_days if staff_days else float("nan")
    return {"level": stats.name, "active": active, "staff_days": staff_days, "busy_days": busy_days,
            "utilization": utilization, "mean_queue": stats.queue_days / window}


def complaint_frame(scenario: Scenario, rec: ReplicationRecords) -> pd.DataFrame:
    """The complaint table of one replication, with derived columns."""
    c = rec.complaints
    n = len(c["arrival_day"])
    horizon = scenario.horizon_days
    outcome = c["outcome"]
    closed = outcome != 2
    days_open = np.where(closed, c["closed_day"] - c["arrival_day"], horizon - c["arrival_day"])
    in_cohort = (c["arrival_day"] >= scenario.warmup_days) & (
        c["arrival_day"] < horizon - scenario.cooldown_days)
    level_cat = pd.CategoricalDtype(LEVELS)
    names = [cat.name for cat in scenario.categories]
    frame = pd.DataFrame({
        "replication": np.full(n, rec.replication, dtype=np.int32),
        "complaint_id": c["complaint_id"],
        "arrival_day": c["arrival_day"],
        "grid": c["grid"].astype(np.int32),
        "community": c["community"].astype(np.int32),
        "street": c["street"].astype(np.int32),
        "category": pd.Categorical.from_codes(c["category"], categories=names),
        "needs": pd.Categorical.from_codes(c["needs"], dtype=level_cat),
        "unclear": c["unclear"].astype(bool),
        "entry_level": pd.Categorical.from_codes(c["entry_level"], dtype=level_cat),
        "outcome": pd.Categorical.from_codes(outcome, categories=list(OUTCOMES)),
        "closed_day": c["closed_day"],
        "days_open": days_open,
        "resolved_level": pd.Categorical.from_codes(c["resolved_level"], dtype=level_cat),
        "handoffs": c["handoffs"],
        "bounces": c["bounces"],
        "contacts": c["contacts"],
        "reopens": c["reopens"],
        "wait_days": c["wait_days"],
        "lead_days": c["lead_days"],
        "in_cohort": in_cohort,
        "satisfied_p": satisfaction_p(scenario, days_open, c["handoffs"], c["bounces"], outcome == 0),
    })
    return frame


def satisfaction_p(scenario: Scenario, days_open: np.ndarray, handoffs: np.ndarray,
                   bounces: np.ndarray, resolved: np.ndarray) -> np.ndarray:
    """Probability that the resident says they are satisfied: a logistic in the experience."""
    s = scenario.satisfaction
    z = (s.intercept + s.per_day * days_open + s.per_handoff * handoffs + s.per_bounce * bounces
         + s.unresolved * (~resolved))
    return np.exp(-np.logaddexp(0.0, -z))      # 1 / (1 + e^-z), without overflow


def utilization_frame(rec: ReplicationRecords) -> pd.DataFrame:
    rows = [{"replication": rec.replication, **{k: v for k, v in row.items() if k != "active"}}
            for row in rec.levels if row["active"]]
    return pd.DataFrame(rows, columns=list(UTILIZATION_COLUMNS))


def event_frame(rec: ReplicationRecords) -> pd.DataFrame:
    e = rec.events
    if e is None:
        return pd.DataFrame(columns=list(EVENT_COLUMNS))
    level_cat = pd.CategoricalDtype(LEVELS)
    return pd.DataFrame({
        "replication": np.full(len(e), rec.replication, dtype=np.int32),
        "complaint_id": e["complaint_id"],
        "day": e["day"],
        "activity": pd.Categorical.from_codes(e["activity"], categories=list(ACTIVITIES)),
        "level": pd.Categorical.from_codes(e["level"], dtype=level_cat),
        "unit": e["unit"],
    })


def process_mining_log(events: pd.DataFrame, start: str = "2020-01-01") -> pd.DataFrame:
    """The event log under process-mining names (pm4py's ``case:concept:name``,
    ``concept:name``, ``time:timestamp``), with days turned into timestamps from ``start``."""
    case = events["replication"].astype(str) + "-" + events["complaint_id"].astype(str)
    return pd.DataFrame({
        "case:concept:name": case,
        "concept:name": events["activity"].astype(str),
        "time:timestamp": pd.Timestamp(start) + pd.to_timedelta(events["day"], unit="D"),
        "org:resource": events["level"].astype(str) + "-" + events["unit"].astype(str),
    })
