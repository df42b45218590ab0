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
from unittest import mock

import numpy as np
import pandas as pd

from sim.arrivals import ComplaintStream
from sim.config import LEVELS, Scenario, load_scenario, validate
from sim.district import District, build_district
from sim.model import World
from sim.records import ACTIVITIES, complaint_frame
from sim.streams import replication_streams

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
DEMO = SCENARIOS / "demo.yaml"


def write_study(tmp_path: Path, spec: dict[str, Any], name: str = "study.yaml") -> Path:
    """A calibration or sensitivity file written from a dict, for load_study or the CLI."""
    import yaml

    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


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
ANY = mock.ANY
"""Stands for the level of an ``abandon`` event in an expected timeline: where a resident
gives up is recorded differently from the other events (the unit the complaint was last
sent to, or none), and the trace tests pin down when, not where."""


def timeline(w: World) -> list[Event]:
    """The event log as (complaint, day rounded to 1e-9, activity, level) tuples (level None
    for an event logged without one)."""
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


# --------------------------------------------------------------------------- broken input
def put(raw: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Set the dotted key of a raw scenario in place (list items by index); ``raw`` back."""
    node: Any = raw
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return raw


def _set(path: str, value: Any) -> Any:
    """A change to a raw scenario: set the dotted ``path`` (list items by index)."""
    def change(raw: dict[str, Any]) -> None:
        put(raw, path, value)
    return change


def _drop(key: str) -> Any:
    return lambda raw: raw.pop(key)


def _meetings_and_staff(raw: dict[str, Any]) -> None:
    raw["levels"]["leadership"] = {"meeting_every_days": 7, "staff": 2, "handle": fixed(0.1),
                                   "resolve": fixed(1.0)}


def _bounce_from_meeting_group(raw: dict[str, Any]) -> None:
    raw["levels"]["leadership"] = {"meeting_every_days": 7, "resolve": fixed(1.0)}
    raw["process"]["route"] = ["grid", "leadership"]
    raw["process"]["bounce"].update({"allowed": True, "from": "leadership", "to": "grid"})


BROKEN: list[tuple[str, Any, str, str]] = [
    # (id, change to tiny_raw(), the key named in the message, a phrase of the message)
    ("unknown-key", _set("colour", "red"), "colour", "unknown key (expected one of: name,"),
    ("unknown-nested-key", _set("process.bounce.allow", True), "process.bounce.allow",
     "unknown key (expected one of: allowed, from, to,"),
    ("unknown-dist-key", _set("levels.grid.handle.cv", 1), "levels.grid.handle.cv",
     "unknown key (expected one of: dist, value)"),
    ("wrong-type-int", _set("district.streets", "many"), "district.streets",
     "'many' is the wrong type (expected a whole number)"),
    ("wrong-type-bool", _set("process.bounce.allowed", "maybe"), "process.bounce.allowed",
     "is the wrong type (expected true or false)"),
    ("fraction-for-count", _set("district.grids", 2.5), "district.grids", "2.5 is the wrong type"),
    ("section-not-mapping", _set("district", 5), "district", "5 is the wrong type (expected a mapping)"),
    ("probability-above-1", _set("process.bounce.probability", 1.5), "process.bounce.probability",
     "1.5 is out of range (expected a value at most 1"),
    ("negative-horizon", _set("horizon_days", -1), "horizon_days",
     "-1 is out of range (expected a value above 0"),
    ("zero-staff", _set("levels.street.staff", 0), "levels.street.staff",
     "0 is out of range (expected a value at least 1)"),
    ("needs-not-summing-to-1", _set("categories.0.needs", {"grid": 0.5, "street": 0.4}),
     "categories.0.needs", "probabilities sum to 0.9 (expected 1 within 1e-09)"),
    ("needs-unknown-level", _set("categories.0.needs", {"town": 1.0}), "categories.0.needs.town",
     "'town' is not allowed"),
    ("unknown-dist", _set("levels.grid.handle", {"dist": "weibull", "mean": 1}), "levels.grid.handle",
     "unknown or missing dist (expected dist: one of fixed, exponential,"),
    ("dist-without-mean", _set("levels.grid.handle", {"dist": "exponential"}), "levels.grid.handle.mean",
     "missing"),
    ("dist-zero-mean", _set("process.escalation_delay", {"dist": "lognormal", "mean": 0, "cv": 1}),
     "process.escalation_delay.mean", "0 is out of range (expected a value above 0"),
    ("uniform-high-below-low", _set("process.escalation_delay", {"dist": "uniform", "low": 2, "high": 1}),
     "process.escalation_delay.high", "below low"),
    ("triangular-out-of-order",
     _set("process.escalation_delay", {"dist": "triangular", "low": 0, "mode": 3, "high": 1}),
     "process.escalation_delay.mode", "out of order"),
    ("empirical-without-values", _set("process.bounce.delay", {"dist": "empirical", "values": []}),
     "process.bounce.delay.values", "has 0 items (expected at least 1)"),
    ("route-not-increasing", _set("process.route", ["street", "grid"]), "process.route",
     "is not strictly increasing"),
    ("route-repeated-level", _set("process.route", ["grid", "street", "street"]), "process.route",
     "is not strictly increasing"),
    ("bounce-level-off-route", _set("process.bounce", {"allowed": True, "from": "platform"}),
     "process.bounce.from", "'platform' is not on the route (expected one of grid, street, department)"),
    ("bounce-to-above-from", _set("process.bounce", {"allowed": True, "from": "street", "to": "department"}),
     "process.bounce.to", "is not below bounce.from"),
    ("missing-name", _drop("name"), "name", "missing (a required key)"),
    ("missing-categories", _drop("categories"), "categories", "missing (a required key)"),
    ("bad-name", _set("name", "Tiny Town"), "name", "has characters that are not allowed"),
    ("department-out-of-range", _set("categories.0.department", 1), "categories.0.department",
     "1 is out of range (expected 0 to 0)"),
    ("unknown-surge-category",
     _set("arrivals.surges", [{"start_day": 1, "days": 2, "multiplier": 2, "categories": ["flood"]}]),
     "arrivals.surges.0.categories", "unknown category 'flood' (expected one of any)"),
    ("warmup-plus-cooldown-reach-horizon", lambda raw: raw.update(warmup_days=60, cooldown_days=40),
     "cooldown_days",
     "warmup_days + cooldown_days leave no cohort"),
    ("leadership-meetings-and-staff", _meetings_and_staff, "levels.leadership.staff",
     "given with meeting_every_days (expected one mode"),
    ("leadership-agenda-without-meetings", _set("levels.leadership.items_per_meeting", 3),
     "levels.leadership.items_per_meeting", "given without meeting_every_days"),
    ("bounce-from-meeting-group", _bounce_from_meeting_group, "process.bounce.from",
     "meetings resolve what they take"),
    ("weekly-profile-length", _set("arrivals.weekly_profile", [1, 1, 1]), "arrivals.weekly_profile",
     "has 3 items (expected 7 multipliers"),
    ("more-branches-than-grids", _set("process.grid_branches", 3), "process.grid_branches",
     "3 exceeds district.grids 2"),
    ("fewer-communities-than-streets", _set("district.streets", 2), "district.communities",
     "fewer than streets"),
    ("duplicate-category", lambda raw: raw["categories"].append(dict(raw["categories"][0])),
     "categories", "duplicate names"),
    ("unknown-priority", _set("process.pushdown.priority", "urgent"), "process.pushdown.priority",
     "'urgent' is not allowed (expected 'same' or 'first')"),
    ("patience-not-a-distribution", _set("residents.patience", 5), "residents.patience",
     "5 is the wrong type (expected a mapping)"),
    ("all-weights-zero", _set("categories.0.weight", 0), "categories", "all weights are zero"),
    ("infinite-horizon", _set("horizon_days", float("inf")), "horizon_days",
     "inf is not finite (expected a finite number)"),
    ("infinite-rate", _set("arrivals.per_1000_residents_per_day", float("inf")),
     "arrivals.per_1000_residents_per_day", "inf is not finite (expected a finite number)"),
    ("nan-satisfaction", _set("satisfaction.intercept", float("nan")), "satisfaction.intercept",
     "nan is not finite (expected a finite number)"),
    ("infinite-bounce-delay", _set("process.bounce.delay", {"dist": "fixed", "value": float("inf")}),
     "process.bounce.delay.value", "inf is not finite (expected a finite number)"),
]


# --------------------------------------------------------------------------- small Shibei
SMALL_DISTRICT = {"district.streets": 2, "district.communities": 6, "district.grids": 40,
                  "district.population": 40_000, "district.departments": 4,
                  "horizon_days": 200, "warmup_days": 20, "cooldown_days": 30}


def small_shibei(process: str, **overrides: Any) -> Scenario:
    """A Shibei scenario file ("2019-legacy", "2019-pilot", "2020-whistle") on a district
    of 40 grids for 200 days: the same process, at about 1/25 of the scale."""
    branches = {"2019-legacy": {}, "2019-pilot": {"process.grid_branches": 2, "process.guides": 1},
                "2020-whistle": {"process.grid_branches": 35, "process.guides": 11}}[process]
    return load_scenario(SCENARIOS / f"shibei-{process}.yaml",
                         {**SMALL_DISTRICT, **branches, **overrides})
