"""Trace tests of the units: the leading group (meetings or staff) and push-down tasks.

Same tiny district and fixed times as test_trace_routing: grid handle 0.1, community
handle 0.1 / resolve 1, escalation delay 0.5.
"""

from __future__ import annotations

import pytest
from kit import ANY, fixed, tiny, trace, traced

MEETINGS = {"meeting_every_days": 5, "items_per_meeting": 2, "resolve": fixed(10.0)}


def test_meeting_takes_oldest_items_up_to_its_agenda():
    """Meetings on days 5, 10, ... take up to two waiting items each, oldest first (complaint 2
    reached the group before complaint 1); each is resolved 10 days after its meeting, which
    does not hold the group: the next meeting still happens on day 10."""
    s = tiny(MEETINGS, process={"route": ["grid", "leadership"]})
    events, table, w = traced(s, {"day": 1.0, "needs": "leadership"},
                              {"day": 1.05, "needs": "leadership"},
                              {"day": 1.08, "grid": 1, "needs": "leadership"})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.05, "arrive", "grid"),
        (1, 1.05, "queue", "grid"),
        (2, 1.08, "arrive", "grid"),
        (2, 1.08, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (1, 1.1, "start", "grid"),
        (2, 1.18, "escalate", "grid"),
        (1, 1.2, "escalate", "grid"),
        (0, 1.6, "handoff", "leadership"),
        (0, 1.6, "queue", "leadership"),
        (2, 1.68, "handoff", "leadership"),
        (2, 1.68, "queue", "leadership"),
        (1, 1.7, "handoff", "leadership"),
        (1, 1.7, "queue", "leadership"),
        (0, 5.0, "start", "leadership"),
        (2, 5.0, "start", "leadership"),
        (1, 10.0, "start", "leadership"),
        (0, 15.0, "resolve", "leadership"),
        (2, 15.0, "resolve", "leadership"),
        (1, 20.0, "resolve", "leadership"),
    ]
    assert table["resolved_level"].tolist() == ["leadership"] * 3
    assert table["wait_days"].tolist() == pytest.approx([3.4, 0.05 + 8.3, 3.32])
    group = w.levels[-1]
    assert (group.meetings, group.taken) == (19, 3)   # days 5, 10, ..., 95


def test_meeting_skips_items_whose_resident_gave_up():
    """Complaint 0 gives up while waiting for the meeting: it takes no place on an agenda of
    one, which goes to complaint 1."""
    s = tiny({**MEETINGS, "items_per_meeting": 1}, process={"route": ["grid", "leadership"]})
    assert trace(s, {"day": 1.0, "needs": "leadership", "patience": 3.0},
                 {"day": 1.55, "grid": 1, "needs": "leadership"}) == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (1, 1.55, "arrive", "grid"),
        (1, 1.55, "start", "grid"),
        (0, 1.6, "handoff", "leadership"),
        (0, 1.6, "queue", "leadership"),
        (1, 1.65, "escalate", "grid"),
        (1, 2.15, "handoff", "leadership"),
        (1, 2.15, "queue", "leadership"),
        (0, 4.0, "abandon", ANY),
        (1, 5.0, "start", "leadership"),
        (1, 15.0, "resolve", "leadership"),
    ]


def test_leading_group_as_staff_queues_like_any_unit():
    """As one staff member (resolve 10), the group works on one item at a time."""
    s = tiny(process={"route": ["grid", "leadership"]})
    assert trace(s, {"day": 1.0, "needs": "leadership"}, {"day": 1.2, "grid": 1, "needs": "leadership"}) == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (1, 1.2, "arrive", "grid"),
        (1, 1.2, "start", "grid"),
        (1, 1.3, "escalate", "grid"),
        (0, 1.6, "handoff", "leadership"),
        (0, 1.6, "start", "leadership"),
        (1, 1.8, "handoff", "leadership"),
        (1, 1.8, "queue", "leadership"),
        (0, 11.6, "resolve", "leadership"),
        (1, 11.6, "start", "leadership"),
        (1, 21.6, "resolve", "leadership"),
    ]


@pytest.mark.parametrize(("priority", "second_start"), [("same", 2.0), ("first", 3.0)])
def test_pushdown_task_queues_with_complaints_or_jumps_ahead(priority, second_start):
    """One community worker; a department's task (1 day of work) arrives at 1.5 while
    complaint 1 is queueing. With priority ``same`` it waits behind complaint 1; with
    ``first`` it is served first and complaint 1 starts a day later."""
    s = tiny(process={"route": ["community", "street"], "pushdown": {"priority": priority}})
    events, _, w = traced(s, {"day": 1.0, "needs": "community"}, {"day": 1.2, "needs": "community"},
                          pushdown=([1.5], [0]))
    assert events == [
        (0, 1.0, "arrive", "community"),
        (0, 1.0, "start", "community"),
        (1, 1.2, "arrive", "community"),
        (1, 1.2, "queue", "community"),
        (0, 2.0, "resolve", "community"),
        *([(1, 2.0, "start", "community")] if priority == "same" else []),
        *([(1, 3.0, "start", "community")] if priority == "first" else []),
        (1, second_start + 1.0, "resolve", "community"),
    ]
    community = w.levels[1]
    assert community.pushdown_days == pytest.approx(1.0)
    assert community.busy_days == pytest.approx(3.0)


def test_first_priority_tasks_all_go_ahead_of_a_queueing_complaint():
    """Two tasks with priority ``first`` arriving while complaint 1 queues are both served
    before it: it starts at 4, after 2 days of tasks."""
    s = tiny(process={"route": ["community", "street"], "pushdown": {"priority": "first"}})
    events = trace(s, {"day": 1.0, "needs": "community"}, {"day": 1.1, "needs": "community"},
                   pushdown=([1.3, 1.4], [0, 0]))
    assert events[-2:] == [(1, 4.0, "start", "community"), (1, 5.0, "resolve", "community")]
