"""Trace tests of the residents: patience, follow-up contacts and duplicate contacts.

Same tiny district and fixed times as test_trace_routing: grid handle 0.1 / resolve 1,
street 0.2 / 2, escalation delay 0.5.
"""

from __future__ import annotations

import pytest
from kit import ANY, staffed, tiny, traced


def test_patience_in_a_queue_and_during_service():
    """Complaint 2 gives up while queueing at grid 0 and leaves at once; complaint 0's patience
    runs out while the grid handles it, so it ends when the step ends (it was going to be
    escalated); complaint 1's runs out while grid 1 resolves it, so it ends resolved."""
    s = tiny()
    events, table, _ = traced(s, {"day": 1.0, "needs": "department", "patience": 0.05},
                              {"day": 1.0, "grid": 1, "patience": 0.5},
                              {"day": 1.02, "patience": 0.04})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.0, "arrive", "grid"),
        (1, 1.0, "start", "grid"),
        (2, 1.02, "arrive", "grid"),
        (2, 1.02, "queue", "grid"),
        (2, 1.06, "abandon", ANY),
        (0, 1.1, "abandon", ANY),
        (1, 2.0, "resolve", "grid"),
    ]
    assert table["outcome"].tolist() == ["abandoned", "resolved", "abandoned"]
    assert table["closed_day"].tolist() == pytest.approx([1.1, 2.0, 1.06])
    assert table["handoffs"].tolist() == [0, 0, 0]


def test_abandoning_from_a_queue_counts_the_time_queued():
    """wait_days is time queueing for staff: a resident who queued 0.04 days and gave up
    queued 0.04 days, like the grid's queue length says."""
    s = tiny()
    _, table, w = traced(s, {"day": 1.0}, {"day": 1.02, "patience": 0.04})
    assert table["wait_days"].tolist() == pytest.approx([0.0, 0.04])
    assert w.levels[0].queue_days == pytest.approx(0.04)


def test_abandoning_from_a_queue_at_the_horizon_counts_the_time_queued():
    """The same when the queue is not served again before the horizon: grid 0 is busy from
    0.5 past the horizon (5); complaint 1 queues from 1.0 and gives up at 3.0, complaint 2
    queues from 2.0 to the horizon."""
    s = tiny(horizon_days=5, levels={"grid": staffed(1, 10.0, 10.0)})
    _, table, _ = traced(s, {"day": 0.5}, {"day": 1.0, "patience": 2.0}, {"day": 2.0})
    assert table["outcome"].tolist() == ["open", "abandoned", "open"]
    assert table["wait_days"].tolist() == pytest.approx([0.0, 2.0, 3.0])


def test_abandoning_during_an_escalation_delay_withdraws_the_complaint():
    """Complaint 0 gives up on its way to the street: it never reaches the street, so
    complaint 1 finds the street free."""
    s = tiny()
    events, table, _ = traced(s, {"day": 1.0, "needs": "street", "patience": 0.3},
                              {"day": 1.5, "grid": 1, "needs": "street"})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (0, 1.3, "abandon", ANY),
        (1, 1.5, "arrive", "grid"),
        (1, 1.5, "start", "grid"),
        (1, 1.6, "escalate", "grid"),
        (1, 2.1, "handoff", "street"),
        (1, 2.1, "start", "street"),
        (1, 4.1, "resolve", "street"),
    ]
    assert table["outcome"].tolist() == ["abandoned", "resolved"]
    assert table["handoffs"].tolist() == [1, 1]


def test_follow_up_contacts_take_handle_time_at_the_entry():
    """Complaint 0 stalls at the street; its resident contacts grid 0 again every 2 days
    until the horizon (8). The contact at day 3 waits behind complaint 1, then holds the grid
    for its handle time (3.95 to 4.05), which delays complaint 2. A resolved complaint
    (complaint 1) is never followed up."""
    s = tiny(horizon_days=8, process={"route": ["grid", "street"]},
             residents={"follow_up_every_days": 2.0})
    events, table, _ = traced(s, {"day": 1.0, "needs": "department"}, {"day": 2.95}, {"day": 4.0})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 1.1, "escalate", "grid"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "start", "street"),
        (0, 1.8, "stall", "street"),
        (1, 2.95, "arrive", "grid"),
        (1, 2.95, "start", "grid"),
        (0, 3.0, "follow_up", "grid"),
        (1, 3.95, "resolve", "grid"),
        (2, 4.0, "arrive", "grid"),
        (2, 4.0, "queue", "grid"),
        (2, 4.05, "start", "grid"),
        (0, 5.0, "follow_up", "grid"),
        (2, 5.05, "resolve", "grid"),
        (0, 7.0, "follow_up", "grid"),
    ]
    assert table["contacts"].tolist() == [4, 1, 1]
    assert table["wait_days"].tolist() == pytest.approx([0.0, 0.0, 0.05])


def test_duplicate_contacts_queue_at_the_entry_and_count():
    """Two duplicate contacts of complaint 0 queue at grid 0 at arrival and each holds the
    grid for its handle time (1.1 to 1.3), ahead of complaint 1, which arrived later."""
    s = tiny()
    events, table, _ = traced(s, {"day": 1.0, "needs": "street", "duplicates": 2}, {"day": 1.05})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.05, "arrive", "grid"),
        (1, 1.05, "queue", "grid"),
        (0, 1.1, "escalate", "grid"),
        (1, 1.3, "start", "grid"),
        (0, 1.6, "handoff", "street"),
        (0, 1.6, "start", "street"),
        (1, 2.3, "resolve", "grid"),
        (0, 3.6, "resolve", "street"),
    ]
    assert table["contacts"].tolist() == [3, 1]
    assert table["wait_days"].tolist() == pytest.approx([0.0, 0.25])


def test_duplicate_contacts_cost_staff_time_after_their_complaint_closed():
    """Complaint 0's two duplicate contacts reached grid 0 at its arrival. The office does not
    know they are duplicates: each holds the grid for its handle time even though complaint 0
    was resolved meanwhile (2.0 to 2.2), so complaint 1, queued since 1.5, starts at 2.2."""
    s = tiny()
    events, table, w = traced(s, {"day": 1.0, "duplicates": 2}, {"day": 1.5})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.5, "arrive", "grid"),
        (1, 1.5, "queue", "grid"),
        (0, 2.0, "resolve", "grid"),
        (1, 2.2, "start", "grid"),
        (1, 3.2, "resolve", "grid"),
    ]
    assert table["contacts"].tolist() == [3, 1]
    assert table["wait_days"].tolist() == pytest.approx([0.0, 0.7])
    assert w.levels[0].busy_days == pytest.approx(1.0 + 2 * 0.1 + 1.0)


def test_no_follow_up_once_the_complaint_closed():
    """A follow-up is a contact made while the complaint is open: complaint 0 closes at 2.0,
    so its resident's call due at 3.0 is never made and costs nothing."""
    s = tiny(residents={"follow_up_every_days": 2.0})
    events, table, w = traced(s, {"day": 1.0})
    assert events == [(0, 1.0, "arrive", "grid"), (0, 1.0, "start", "grid"), (0, 2.0, "resolve", "grid")]
    assert table["contacts"].tolist() == [1]
    assert w.levels[0].busy_days == pytest.approx(1.0)
