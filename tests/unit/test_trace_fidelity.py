"""Trace tests of lead time, fixes that do not hold, and each complaint's own draws.

Same tiny district and fixed times as test_trace_routing: grid resolve 1, street handle 0.2 /
resolve 2, escalation delay 0.5, unless a test says otherwise.
"""

from __future__ import annotations

import pytest
from kit import fixed, staffed, tiny, traced

from sim.draws import ComplaintDraws, Purpose
from sim.routing import GRID
from sim.streams import replication_streams

EXPONENTIAL = {"dist": "exponential", "mean": 1.0}


def test_lead_time_holds_no_staff():
    """The grid's work on complaint 0 ends at 2.0; its fix then takes 2 days of lead time in
    which no one is held: complaint 1 starts at 2.0, not 4.0. Both close after their lead."""
    s = tiny(levels={"grid": {**staffed(1, 0.1, 1.0), "lead": fixed(2.0)}})
    events, table, w = traced(s, {"day": 1.0}, {"day": 1.5})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (1, 1.5, "arrive", "grid"),
        (1, 1.5, "queue", "grid"),
        (1, 2.0, "start", "grid"),
        (0, 4.0, "resolve", "grid"),
        (1, 5.0, "resolve", "grid"),
    ]
    assert table["lead_days"].tolist() == [2.0, 2.0]
    assert table["days_open"].tolist() == [3.0, 3.5]
    assert table["wait_days"].tolist() == pytest.approx([0.0, 0.5])
    assert w.levels[GRID].busy_days == pytest.approx(2.0)          # staff time only


def test_lead_time_open_at_the_horizon_counts_to_the_horizon():
    s = tiny(horizon_days=3, levels={"grid": {**staffed(1, 0.1, 1.0), "lead": fixed(5.0)}})
    _, table, _ = traced(s, {"day": 1.0})
    assert table["outcome"].tolist() == ["open"]
    assert table["lead_days"].tolist() == [1.0]


def _seed_where_first_fix_fails_and_second_holds() -> tuple[int, float]:
    """A seed whose complaint 0 draws a higher fix uniform on its first grid visit than on
    its second, and a ``fixes`` between them: the first fix fails, the second holds."""
    for seed in range(1, 50):
        draws = ComplaintDraws(tiny(seed=seed), replication_streams(seed, 0).sequence("complaints"), 1)
        u0, u1 = (draws.draw(Purpose.FIX, GRID, k, 0) for k in (0, 1))
        if u1 < u0:
            return seed, (u0 + u1) / 2
    raise AssertionError("no such seed")


def test_a_fix_that_does_not_hold_is_reported_again_at_the_entry():
    """Complaint 0's first fix at the grid (closed at 2.0) does not hold: the resident finds
    out and reports it again 2 days later at the grid, whose second fix holds. The hotline
    counts two tickets, one of which fixed the problem."""
    seed, fixes = _seed_where_first_fix_fails_and_second_holds()
    s = tiny(seed=seed, levels={"grid": {**staffed(1, 0.1, 1.0), "fixes": fixes}},
             residents={"reopen_after_days": fixed(2.0)})
    events, table, _ = traced(s, {"day": 1.0})
    assert events == [
        (0, 1.0, "arrive", "grid"),
        (0, 1.0, "start", "grid"),
        (0, 2.0, "resolve", "grid"),
        (0, 4.0, "reopen", "grid"),
        (0, 4.0, "start", "grid"),
        (0, 5.0, "resolve", "grid"),
    ]
    assert table["outcome"].tolist() == ["resolved"]
    assert table["reopens"].tolist() == [1]
    assert table["contacts"].tolist() == [2]
    assert table["closed_day"].tolist() == [5.0]
    assert table["handoffs"].tolist() == [0]


def test_fixes_that_never_hold_end_with_the_residents_patience():
    """With ``fixes`` 0 every closure reopens, until the resident gives up: the deadline
    (7.5) passes while the grid works on the third report, which ends unfixed at 8.0, so the
    complaint ends abandoned then, with three unfixed closures."""
    s = tiny(levels={"grid": {**staffed(1, 0.1, 1.0), "fixes": 0.0}},
             residents={"reopen_after_days": fixed(2.0)})
    events, table, _ = traced(s, {"day": 1.0, "patience": 6.5})
    assert [e[1:3] for e in events] == [
        (1.0, "arrive"), (1.0, "start"), (2.0, "resolve"), (4.0, "reopen"), (4.0, "start"),
        (5.0, "resolve"), (7.0, "reopen"), (7.0, "start"), (8.0, "resolve"), (8.0, "abandon")]
    assert table["outcome"].tolist() == ["abandoned"]
    assert table["reopens"].tolist() == [3]


def _own_times(events: list, cid: int) -> dict[str, float]:
    """One complaint's work at the grid, escalation delay and work at the street: what its
    own draws decide, whatever it waits for in queues."""
    day = {(activity, level): d for c, d, activity, level in events if c == cid}
    return {"grid work": round(day["escalate", "grid"] - day["start", "grid"], 9),
            "delay": round(day["handoff", "street"] - day["escalate", "grid"], 9),
            "street work": round(day["resolve", "street"] - day["start", "street"], 9)}


def test_a_changed_route_leaves_other_complaints_draws_alone():
    """Complaint 0 needs the street in one run and only the grid in the other. Complaint 1,
    in another grid, then no longer queues behind it at the street, so its timeline shifts;
    but its own work times and delay (its own draws) are the same in both runs."""
    levels = {name: {"staff": 1, "handle": EXPONENTIAL, "resolve": EXPONENTIAL}
              for name in ("grid", "street", "department")}
    s = tiny(levels=levels, process={"escalation_delay": EXPONENTIAL})
    one = {"day": 1.1, "grid": 1, "needs": "street"}
    via_street, _, _ = traced(s, {"day": 1.0, "needs": "street"}, one)
    at_grid, _, _ = traced(s, {"day": 1.0, "needs": "grid"}, one)
    assert [e for e in via_street if e[0] == 1] != [e for e in at_grid if e[0] == 1]
    assert ("queue", "street") in {e[2:] for e in via_street if e[0] == 1}   # it waited for 0
    assert _own_times(via_street, 1) == _own_times(at_grid, 1)


def test_per_complaint_draws_do_not_depend_on_order_or_length():
    """Complaint 7's k-th draw is the same whether asked first or last, and whether the
    stream holds 10 complaints or 1000 (numpy's draws are prefix-stable)."""
    s = tiny()
    seq = replication_streams(s.seed, 0).sequence
    short, long = ComplaintDraws(s, seq("complaints"), 10), ComplaintDraws(s, seq("complaints"), 1000)
    asked = [short.draw(Purpose.RESOLVE, GRID, k, 7) for k in (2, 0, 1)]
    long.draw(Purpose.HANDLE, GRID, 0, 999)
    assert [long.draw(Purpose.RESOLVE, GRID, k, 7) for k in (0, 1, 2)] == [asked[1], asked[2], asked[0]]
    assert short.draw(Purpose.FIX, GRID, 0, 7) != short.draw(Purpose.DODGE, GRID, 0, 7)
    assert short.draw(Purpose.FIX, GRID, 0, 25) == long.draw(Purpose.FIX, GRID, 0, 25)   # grown


@pytest.mark.parametrize("purpose", [Purpose.RESOLVE, Purpose.LEAD, Purpose.FIX, Purpose.CONTACT])
def test_draws_in_blocks_are_one_stream_and_an_old_block_is_drawn_again_the_same(purpose):
    """A stream drawn block by block, with blocks leaving the window and drawn again from
    their saved state, gives element for element the one long vector of the same stream."""
    import numpy as np

    from sim.distributions import vector_draw
    from sim.draws import BLOCK, purpose_specs

    s = tiny(levels={"grid": {"staff": 1, "handle": {"dist": "lognormal", "mean": 0.5, "cv": 0.8},
                              "resolve": EXPONENTIAL, "lead": {"dist": "gamma", "mean": 2.0, "cv": 0.7}}})
    seq = replication_streams(s.seed, 0).sequence("complaints")
    draws = ComplaintDraws(s, seq, 1)                  # a window of 4 blocks
    ids = [3, 9 * BLOCK + 5, 2 * BLOCK + 1, 0, 12 * BLOCK, 1, BLOCK - 1]
    got = [draws.draw(purpose, GRID, 1, i) for i in ids]
    assert draws.redrawn() >= 2                        # blocks 0 and 2 had left the window
    spec = purpose_specs(s)[purpose][GRID]
    assert spec is not None
    key = (*seq.spawn_key, purpose, GRID, 1)
    whole = vector_draw(spec)(np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=key)),
                              13 * BLOCK)
    assert got == [whole.item(i) for i in ids]
