"""Trace tests of the routing rules: resolve, escalate, bounce, stall, entry and guides.

Each test runs two or three complaints through the tiny district of conftest (one street,
one community, two grids, one department; every time fixed) and compares the whole event log
with the timeline worked out by hand. Times used throughout, unless a test changes them:
grid handle 0.1 / resolve 1; community 0.1 / 1; street 0.2 / 2; department 0.5 / 3;
escalation delay 0.5; bounce delay 1.

When a step ends at the same instant as the next queued item starts, the log has the next
item's ``start`` before the finished item's ``resolve`` or ``escalate``: the model frees the
staff member before carrying out the decision (see test_trace_residents for what that does
to duplicate contacts).
"""

from __future__ import annotations

import numpy as np
import pytest
from kit import ANY, staffed, stream, tiny, trace, traced, world

from sim.district import build_district
from sim.records import ACTIVITIES
from sim.routing import DEPARTMENT


def test_resolve_at_entry_in_arrival_order():
    """Grid-level problems are resolved by the grid itself, one at a time, first come first
    served; the other grid's staff work in parallel."""
    s = tiny()
    assert trace(s, {"day": 1.0}, {"day": 1.5}, {"day": 1.5, "grid": 1}) == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.5, "arrive", "grid"),
        (1, 1.5, "queue", "grid"),
        (2, 1.5, "arrive", "grid"),
        (2, 1.5, "start", "grid"),
        (0, 2.0, "resolve", "grid"),
        (1, 2.0, "start", "grid"),
        (2, 2.5, "resolve", "grid"),
        (1, 3.0, "resolve", "grid"),
    ]


def test_resolve_at_entry_table():
    _, table, _ = traced(tiny(), {"day": 1.0}, {"day": 1.5})
    assert table["outcome"].tolist() == ["resolved", "resolved"]
    assert table["resolved_level"].tolist() == ["grid", "grid"]
    assert table["closed_day"].tolist() == pytest.approx([2.0, 3.0])
    assert table["days_open"].tolist() == pytest.approx([1.0, 1.5])
    assert table["wait_days"].tolist() == pytest.approx([0.0, 0.5])
    assert table["handoffs"].tolist() == [0, 0]
    assert table["contacts"].tolist() == [1, 1]


def test_escalate_level_by_level_with_delay():
    """A department-level problem is handled (handle time) at the grid and the street and
    reaches the department after two escalation delays; a street-level problem behind it waits
    at the grid and again at the street."""
    s = tiny()
    events, table, _ = traced(s, {"day": 1.0, "needs": "department"}, {"day": 1.05, "needs": "street"})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.05, "arrive", "grid"),
        (1, 1.05, "queue", "grid"),
        (0, 1.1, "escalate", "grid"),
        (1, 1.1, "start", "grid"),
        (1, 1.2, "escalate", "grid"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "start", "street"),
        (1, 1.7, "handoff", "street"),
        (1, 1.7, "queue", "street"),
        (0, 1.8, "escalate", "street"),
        (1, 1.8, "start", "street"),
        (0, 2.3, "handoff", "department"),
        (0, 2.3, "start", "department"),
        (1, 3.8, "resolve", "street"),
        (0, 5.3, "resolve", "department"),
    ]
    assert table["resolved_level"].tolist() == ["department", "street"]
    assert table["handoffs"].tolist() == [2, 1]
    assert table["wait_days"].tolist() == pytest.approx([0.0, 0.05 + 0.1])


@pytest.mark.parametrize("top_resolves_all", [True, False])
def test_top_of_route_resolves_all_or_stalls(top_resolves_all):
    """A route ending at the street: its top resolves a leadership-level problem only when
    ``top_resolves_all`` is set (resolve time), else it stalls there (handle time)."""
    s = tiny(process={"route": ["grid", "street"], "top_resolves_all": top_resolves_all})
    end = (0, 3.6, "resolve", "street") if top_resolves_all else (0, 1.8, "stall", "street")
    assert trace(s, {"day": 1.0, "needs": "leadership"}) == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "start", "street"),
        end,
    ]


def test_bounce_and_send_up_again_until_max_rounds_then_stall():
    """An unclear problem is bounced by the department (probability 1) to the street after the
    department's handle time; the street waits the bounce delay, handles it and sends it up
    again. After max_rounds=2 bounces the department stalls it. A clear problem beside it is
    resolved by the department."""
    s = tiny(process={"bounce": {"allowed": True, "probability": 1.0, "max_rounds": 2}},
             levels={"department": staffed(2, 0.5, 3.0)})
    events, table, _ = traced(s, {"day": 1.0, "needs": "department", "unclear": True},
                              {"day": 2.05, "grid": 1, "needs": "department"})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "start", "street"),
        (0, 1.8, "escalate", "street"),
        (1, 2.05, "arrive", "grid"),
        (1, 2.05, "start", "grid"),
        (1, 2.15, "escalate", "grid"),
        (0, 2.3, "handoff", "department"),
        (0, 2.3, "start", "department"),
        (1, 2.65, "handoff", "street"),
        (1, 2.65, "start", "street"),
        (0, 2.8, "bounce", "department"),
        (1, 2.85, "escalate", "street"),
        (1, 3.35, "handoff", "department"),
        (1, 3.35, "start", "department"),
        (0, 3.8, "handoff", "street"),
        (0, 3.8, "start", "street"),
        (0, 4.0, "escalate", "street"),
        (0, 4.5, "handoff", "department"),
        (0, 4.5, "start", "department"),
        (0, 5.0, "bounce", "department"),
        (0, 6.0, "handoff", "street"),
        (0, 6.0, "start", "street"),
        (0, 6.2, "escalate", "street"),
        (1, 6.35, "resolve", "department"),
        (0, 6.7, "handoff", "department"),
        (0, 6.7, "start", "department"),
        (0, 7.2, "stall", "department"),
    ]
    assert table["outcome"].tolist() == ["open", "resolved"]
    assert table["bounces"].tolist() == [2, 0]
    assert table["handoffs"].tolist() == [6, 2]
    assert np.isnan(table["closed_day"][0])


def test_bounce_without_a_higher_level_even_when_clear():
    """A clear problem the department cannot resolve, with nothing above it on the route, is
    always sent back (bounce probability 0 plays no part); max_rounds=1 then stalls it."""
    s = tiny(process={"bounce": {"allowed": True, "probability": 0.0, "max_rounds": 1}})
    assert trace(s, {"day": 1.0, "needs": "platform"}) == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "start", "street"),
        (0, 1.8, "escalate", "street"),
        (0, 2.3, "handoff", "department"),
        (0, 2.3, "start", "department"),
        (0, 2.8, "bounce", "department"),
        (0, 3.8, "handoff", "street"),
        (0, 3.8, "start", "street"),
        (0, 4.0, "escalate", "street"),
        (0, 4.5, "handoff", "department"),
        (0, 4.5, "start", "department"),
        (0, 5.0, "stall", "department"),
    ]


def test_bounce_goes_back_to_the_entry_when_it_is_above_bounce_to():
    """Bounces go to ``bounce.to`` (the grid here), but this complaint came from a grid
    without a party branch and entered at the street: it is sent back to the street, never
    down to a grid office that never had it."""
    s = tiny(process={"grid_branches": 1, "route": ["grid", "street", "department"],
                      "bounce": {"allowed": True, "to": "grid", "probability": 1.0, "max_rounds": 1}})
    without = int(np.flatnonzero(~build_district(s).branch)[0])
    assert trace(s, {"day": 1.0, "grid": without, "needs": "department", "unclear": True}) == [
        (0, 1.0, "arrive", "street"),
        (0, 1.0, "start", "street"),
        (0, 1.2, "escalate", "street"),
        (0, 1.7, "handoff", "department"),
        (0, 1.7, "start", "department"),
        (0, 2.2, "bounce", "department"),
        (0, 3.2, "handoff", "street"),
        (0, 3.2, "start", "street"),
        (0, 3.4, "escalate", "street"),
        (0, 3.9, "handoff", "department"),
        (0, 3.9, "start", "department"),
        (0, 4.4, "stall", "department"),
    ]


def test_unclear_problem_is_not_bounced_when_bounce_is_not_allowed():
    s = tiny(process={"bounce": {"allowed": False, "probability": 1.0}})
    events = trace(s, {"day": 1.0, "needs": "department", "unclear": True})
    assert events[-1] == (0, 5.3, "resolve", "department")
    assert all(activity != "bounce" for _, _, activity, _ in events)


def test_stall_leaves_it_open_until_patience_ends_it():
    """A route ending at the street, no top that resolves all: what the street cannot
    resolve stalls there, open to the horizon unless the resident gives up."""
    s = tiny(process={"route": ["grid", "street"]})
    events, table, _ = traced(s, {"day": 1.0, "needs": "department"},
                              {"day": 3.0, "grid": 1, "needs": "platform", "patience": 10.0})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "start", "street"),
        (0, 1.8, "stall", "street"),
        (1, 3.0, "arrive", "grid"),
        (1, 3.0, "start", "grid"),
        (1, 3.1, "escalate", "grid"),
        (1, 3.6, "handoff", "street"),
        (1, 3.6, "start", "street"),
        (1, 3.8, "stall", "street"),
        (1, 13.0, "abandon", ANY),
    ]
    assert table["outcome"].tolist() == ["open", "abandoned"]
    assert table["days_open"].tolist() == pytest.approx([99.0, 10.0])
    assert table["resolved_level"].isna().all()


def test_entry_at_a_grid_without_branch_goes_to_the_next_level():
    """Only branch grids take complaints; in the other grid the street is the entry."""
    s = tiny(process={"grid_branches": 1})
    branch = build_district(s).branch
    with_branch, without = int(np.flatnonzero(branch)[0]), int(np.flatnonzero(~branch)[0])
    events, table, _ = traced(s, {"day": 1.0, "grid": with_branch, "needs": "street"},
                              {"day": 1.2, "grid": without, "needs": "street"})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (1, 1.2, "arrive", "street"),
        (1, 1.2, "start", "street"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "queue", "street"),
        (1, 3.2, "resolve", "street"),
        (0, 3.2, "start", "street"),
        (0, 5.2, "resolve", "street"),
    ]
    assert table["entry_level"].tolist() == ["grid", "street"]
    assert table["handoffs"].tolist() == [1, 0]
    assert table["wait_days"].tolist() == pytest.approx([1.6, 0.0])


def guided_scenario(resolve_community: float, delay_factor: float):
    """Both grids have branches, one guide serving one grid: one guided, one not."""
    s = tiny(process={"route": ["grid", "community", "street"], "guides": 1,
                      "guide_effect": {"grids_per_guide": 1, "resolve_community": resolve_community,
                                       "delay_factor": delay_factor}})
    guided = build_district(s).guided
    assert guided.sum() == 1
    return s, int(np.flatnonzero(guided)[0]), int(np.flatnonzero(~guided)[0])


def test_guide_resolves_community_problems_and_shortens_escalation():
    """With resolve_community=1 the guided grid resolves a community-level problem itself
    (resolve time), but escalates a street-level one, after half the escalation delay
    (delay_factor=0.5); the unguided grid escalates community-level problems, full delay."""
    s, guided, unguided = guided_scenario(1.0, 0.5)
    events, table, _ = traced(s, {"day": 1.0, "grid": guided, "needs": "community"},
                              {"day": 1.5, "grid": guided, "needs": "street"},
                              {"day": 1.6, "grid": unguided, "needs": "community"})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.5, "arrive", "grid"),
        (1, 1.5, "queue", "grid"),
        (2, 1.6, "arrive", "grid"),
        (2, 1.6, "start", "grid"),
        (2, 1.7, "escalate", "grid"),
        (0, 2.0, "resolve", "grid"),
        (1, 2.0, "start", "grid"),
        (1, 2.1, "escalate", "grid"),
        (2, 2.2, "handoff", "community"),
        (2, 2.2, "start", "community"),
        (1, 2.35, "handoff", "community"),
        (1, 2.35, "queue", "community"),
        (2, 3.2, "resolve", "community"),
        (1, 3.2, "start", "community"),
        (1, 3.3, "escalate", "community"),
        (1, 3.8, "handoff", "street"),
        (1, 3.8, "start", "street"),
        (1, 5.8, "resolve", "street"),
    ]
    assert table["resolved_level"].tolist() == ["grid", "street", "community"]


def test_guide_with_resolve_community_zero_escalates_at_full_delay():
    s, guided, _ = guided_scenario(0.0, 1.0)
    assert trace(s, {"day": 1.0, "grid": guided, "needs": "community"}) == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (0, 1.6, "handoff", "community"),
        (0, 1.6, "start", "community"),
        (0, 2.6, "resolve", "community"),
    ]


def test_escalation_reaches_the_owning_department():
    """Two departments: each complaint goes to its own, so neither waits for the other."""
    s = tiny(district={"departments": 2})
    w = world(s, stream({"day": 1.0, "needs": "department", "department": 1},
                        {"day": 1.0, "grid": 1, "needs": "department", "department": 0}))
    w.run()
    at_departments = [(cid, round(day, 9), ACTIVITIES[a], unit) for cid, day, a, level, unit in w.events
                      if level == DEPARTMENT]
    assert at_departments == [
        (0, 2.3, "handoff", 1),
        (0, 2.3, "start", 1),
        (1, 2.5, "handoff", 0),
        (1, 2.5, "start", 0),
        (0, 5.3, "resolve", 1),
        (1, 5.5, "resolve", 0),
    ]
