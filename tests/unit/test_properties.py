"""Properties over many inputs (hypothesis): valid scenarios near the demo's ranges run clean
and conserve every complaint; junk never gets further than one located error line."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kit import DEMO, put

from sim import yamlio
from sim.config import LEVELS, ScenarioError, validate
from sim.experiment import simulate
from sim.metrics import kpi_range, summarize

BASE: dict[str, Any] = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def dist() -> st.SearchStrategy[dict[str, Any]]:
    mean = st.floats(0.05, 5.0)
    cv = st.just(0.0) | st.floats(0.01, 2.0)
    return st.one_of(
        st.builds(lambda m: {"dist": "exponential", "mean": m}, mean),
        st.builds(lambda m, c: {"dist": "lognormal", "mean": m, "cv": c}, mean, cv),
        st.builds(lambda m, c: {"dist": "gamma", "mean": m, "cv": c}, mean, cv),
        st.builds(lambda v: {"dist": "fixed", "value": v}, st.floats(0, 3.0)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """The demo with its shape, staff, times and process drawn near their own values, short."""
    raw = yaml.safe_load(yaml.safe_dump(BASE))
    streets = draw(st.integers(1, 3))
    communities = draw(st.integers(streets, 6))
    grids = draw(st.integers(communities, 20))
    raw.update(horizon_days=draw(st.floats(20, 40)), warmup_days=5.0, cooldown_days=5.0, replications=1,
               seed=draw(st.integers(0, 2**32)))
    raw["district"].update(streets=streets, communities=communities, grids=grids,
                           population=draw(st.integers(1000, 5000)),
                           population_cv=draw(st.just(0.0) | st.floats(0.01, 1)))
    route = sorted(draw(st.sets(st.sampled_from(LEVELS[1:]), min_size=1)), key=LEVELS.index)
    process = raw["process"]
    process.update(route=route, grid_branches=0, guides=0, escalation_delay=draw(dist()),
                   top_resolves_all=draw(st.booleans()), duplicate_contacts=draw(st.floats(0, 1)))
    staffed = [level for level in route if level != "leadership"]     # the group meets
    if len(staffed) >= 2 and draw(st.booleans()):
        process["bounce"] = {"allowed": True, "from": staffed[-1], "to": staffed[0],
                             "probability": draw(st.floats(0, 1)), "max_rounds": draw(st.integers(0, 4)),
                             "delay": draw(dist())}
    for level in LEVELS[:-1]:
        raw["levels"][level] = {"staff": draw(st.integers(1, 6)), "handle": draw(dist()),
                                "resolve": draw(dist())}
    raw["residents"] = {"patience": draw(st.one_of(st.none(), dist())),
                        "follow_up_every_days": draw(st.one_of(st.none(), st.floats(1, 20)))}
    return raw


@FEW
@given(scenarios())
def test_valid_scenarios_run_clean_and_conserve_complaints(raw):
    scenario = validate(raw, "drawn.yaml")
    rep = simulate(scenario, 0)          # raises ConservationError if a complaint is lost
    k = rep.kpis
    if k["arrivals"] > 0:
        assert math.isclose(k["resolved_share"] + k["abandoned_share"] + k["open_share"], 1.0)
    p = rep.complaints["satisfied_p"].to_numpy()
    assert np.all((p >= 0) & (p <= 1))
    for name, value in k.items():
        low, high = kpi_range(name)
        assert math.isnan(value) or low - 1e-9 <= value <= high + 1e-9, (name, value)


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
KEYS = ["name", "seed", "horizon_days", "sla_days", "district", "district.grids", "arrivals",
        "arrivals.surges", "categories", "categories.0", "categories.0.needs", "levels.grid",
        "levels.grid.resolve", "levels.grid.resolve.dist", "levels.leadership", "process.route",
        "process.bounce", "process.bounce.from", "residents.patience", "satisfaction", "bogus"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(KEYS), junk)
def test_junk_in_any_key_is_a_scenario_error_or_a_scenario(key, value):
    raw = put(yaml.safe_load(yaml.safe_dump(BASE)), key, value)
    try:
        validate(raw, "junk.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("junk.yaml: ") and "\n" not in str(exc)
        assert len(str(exc)) < 1000


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_junk_text_is_parsed_or_refused_in_one_line(text):
    try:
        yamlio.parse(text, "junk.yaml")
    except ScenarioError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=4))
def test_share_intervals_stay_inside_0_and_1(values):
    import pandas as pd

    kpis = pd.DataFrame({"replication": range(len(values)), "resolved_share": values})
    row = summarize(kpis).iloc[0]
    assert math.isnan(row["ci_low"]) or 0.0 <= row["ci_low"] <= row["ci_high"] <= 1.0


@pytest.mark.parametrize("z", [-1e9, -800.0, 0.0, 800.0, 1e9])
def test_the_logistic_never_overflows(z):
    from sim.records import satisfaction_p

    class S:
        satisfaction = type("Sat", (), {"intercept": z, "per_day": 0.0, "per_handoff": 0.0,
                                        "per_bounce": 0.0, "unresolved": 0.0})

    with np.errstate(over="raise", invalid="raise"):      # underflow to exactly 0 or 1 is fine
        p = satisfaction_p(S, np.zeros(2), np.zeros(2), np.zeros(2), np.ones(2, bool))  # type: ignore[arg-type]
    expected = 1 / (1 + math.exp(-z)) if abs(z) < 700 else float(z > 0)
    assert np.all(np.isfinite(p)) and math.isclose(p[0], expected)
