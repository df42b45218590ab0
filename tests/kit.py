"""Test helpers: tiny scenarios built as dicts, hand-made complaint streams, traces.

A trace test writes down two or three residents' problems at chosen times, runs a district
of one street with ``fixed`` service times, and compares the whole event log with the
timeline worked out by hand, as SimPy's own tests do.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.arrivals import ComplaintStream
from sim.config import LEVELS, Scenario, validate
from sim.district import District, build_district
from sim.model import World
from sim.records import ACTIVITIES, complaint_frame
from sim.streams import replication_streams

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
DEMO = SCENARIOS / "demo.yaml"


def fixed(value: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": value}


def staffed(staff: int = 1, handle: float = 0.1, resolve: float = 1.0) -> dict[str, Any]:
    return {"staff": staff, "handle": fixed(handle), "resolve": fixed(resolve)}


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in, section by section (lists replaced whole)."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def tiny_raw(leadership: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A district of one street, one community, two grids and one department, where every
    time is fixed and nothing happens unless a test asks for it: no patience, no follow-up,
    no duplicates, no push-down tasks, no bounce, the leading group as one staff member
    (``leadership`` replaces that section whole, e.g. with a meeting schedule)."""
    base: dict[str, Any] = {
        "name": "tiny",
        "seed": 1,
        "horizon_days": 100,
        "warmup_days": 0,
        "cooldown_days": 0,
        "replications": 1,
        "district": {"streets": 1, "communities": 1, "grids": 2, "population": 200,
                     "population_cv": 0, "departments": 1},
        "arrivals": {"per_1000_residents_per_day": 0},
        "categories": [{"name": "any", "weight": 1, "needs": {"grid": 1.0}}],
        "levels": {
            "grid": staffed(1, 0.1, 1.0),
            "community": staffed(1, 0.1, 1.0),
            "street": staffed(1, 0.2, 2.0),
            "department": staffed(1, 0.5, 3.0),
            "platform": staffed(1, 0.1, 2.0),
            "leadership": {"staff": 1, "handle": fixed(0.1), "resolve": fixed(10.0)},
        },
        "process": {
            "route": ["grid", "street", "department"],
            "grid_branches": 2,
            "guides": 0,
            "escalation_delay": fixed(0.5),
            "bounce": {"allowed": False, "probability": 1.0, "max_rounds": 6, "delay": fixed(1.0)},
            "top_resolves_all": False,
            "duplicate_contacts": 0,
            "pushdown": {"tasks_per_community_per_day": 0, "work": fixed(1.0), "priority": "same"},
        },
        "residents": {"patience": None, "follow_up_every_days": None},
    }
    raw = merge(base, changes)
    if leadership is not None:
        raw["levels"]["leadership"] = copy.deepcopy(leadership)
    return raw


def tiny(leadership: dict[str, Any] | None = None, **changes: Any) -> Scenario:
    return validate(tiny_raw(leadership, **changes))


def stream(*complaints: dict[str, Any]) -> ComplaintStream:
    """Complaints given as dicts: ``day`` (required), ``grid`` (0), ``needs`` (a level name,
    "grid"), ``unclear`` (False), ``department`` (0), ``patience`` (never), ``duplicates`` (0)."""
    def column(key: str, default: Any, dtype: Any) -> np.ndarray:
        return np.array([c.get(key, default) for c in complaints], dtype=dtype)

    days = [c["day"] for c in complaints]
    assert days == sorted(days), "complaints must be given in order of arrival"
    return ComplaintStream(
        day=column("day", None, float),
        grid=column("grid", 0, np.int64),
        category=np.zeros(len(complaints), dtype=np.int64),
        needs=np.array([LEVELS.index(c.get("needs", "grid")) for c in complaints], dtype=np.int64),
        unclear=column("unclear", False, bool),
        department=column("department", 0, np.int64),
        patience=column("patience", np.inf, float),
        duplicates=column("duplicates", 0, np.int64),
    )


def world(scenario: Scenario, complaints: ComplaintStream,
          pushdown: tuple[Sequence[float], Sequence[int]] | None = None,
          district: District | None = None) -> World:
    tasks = None if pushdown is None else (np.asarray(pushdown[0], dtype=float),
                                           np.asarray(pushdown[1], dtype=np.int64))
    return World(scenario, district or build_district(scenario), replication_streams(scenario.seed, 0),
                 record_events=True, complaints=complaints, pushdown=tasks)


Event = tuple[int, float, str, str | None]


def timeline(w: World) -> list[Event]:
    """The event log as (complaint, day rounded to 1e-9, activity, level) tuples; an
    abandonment is logged with no level (None)."""
    assert w.events is not None
    return [(cid, round(day, 9), ACTIVITIES[activity], LEVELS[level] if level >= 0 else None)
            for cid, day, activity, level, _unit in w.events]


def trace(scenario: Scenario, *complaints: dict[str, Any],
          pushdown: tuple[Sequence[float], Sequence[int]] | None = None) -> list[Event]:
    """Run the complaints through the scenario and return the timeline."""
    return traced(scenario, *complaints, pushdown=pushdown)[0]


def traced(scenario: Scenario, *complaints: dict[str, Any],
           pushdown: tuple[Sequence[float], Sequence[int]] | None = None,
           ) -> tuple[list[Event], pd.DataFrame, World]:
    """The timeline, the complaint table (as written to complaints.parquet) and the world."""
    w = world(scenario, stream(*complaints), pushdown)
    rec = w.run()
    return timeline(w), complaint_frame(scenario, rec), w
