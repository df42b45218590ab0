"""The SimPy world: offices with staff, residents with problems, and a complaint's life.

Mrs Wang's stairwell drain is blocked. She tells her grid's party branch (or, in the old
process, her community office). The office queues her problem for one of its staff, who
either resolves it (``resolve`` time) or triages it and passes it on (``handle`` time); the
routing rules say which and where to. While she waits she calls back every so often, and if
her patience runs out she gives up. Departments meanwhile push their own tasks onto the
communities, which take staff time her problem needed.

Each office is a unit with ``staff`` servers and a FIFO queue. The life of a complaint is a
chain of scheduled SimPy events with callbacks (arrive, start, finish, pass on) rather than
one generator process per complaint: the same events, without a process per resident. A
resident's patience is a deadline, checked whenever the complaint would move on (leaving a
queue, arriving from a delay, finishing a step, at the horizon), so a withdrawal costs no
event of its own and ends exactly at the deadline. The model never decides where a
complaint goes: it asks ``routing.decide`` and carries the answer out.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import simpy
from simpy.events import NORMAL

from sim.arrivals import ComplaintStream, draw_complaints, draw_pushdown
from sim.config import LEVELS, Scenario
from sim.distributions import Sampler, Uniforms
from sim.district import District
from sim.records import Activity, ReplicationRecords
from sim.routing import GRID, LEADERSHIP, Action, Rules, decide
from sim.streams import ARRIVAL_PURPOSES, Streams
from sim.units import (
    ABANDONED,
    CLOSED,
    CONTACT,
    DELAY,
    QUEUED,
    RESOLVED,
    SERVICE,
    STALLED,
    TASK,
    VISIT,
    Complaint,
    LevelStats,
    Unit,
    Wake,
)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the event loop. The loop makes no reference
    cycles (each step's event and callback are freed by reference counting as soon as they
    have run), but it allocates millions of objects, and every few hundred allocations the
    collector would rescan the run's growing records: a fifth of a replication's time, half
    of it with an event log."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class World:
    """One replication of one scenario: build with streams, call ``run()`` once."""

    def __init__(self, scenario: Scenario, district: District, streams: Streams,
                 replication: int = 0, record_events: bool = False,
                 complaints: ComplaintStream | None = None,
                 pushdown: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """``complaints`` and ``pushdown`` (times, communities) replace the drawn streams:
        for trace tests that need complaints at chosen times."""
        self.scenario, self.district, self.replication = scenario, district, replication
        self.env = simpy.Environment()
        self.horizon, self.warmup = scenario.horizon_days, scenario.warmup_days
        self.rules = Rules.of(scenario)
        self.stream = complaints if complaints is not None else draw_complaints(
            scenario, district, streams.child("arrivals", ARRIVAL_PURPOSES))
        self.pushdown_day, self.pushdown_community = pushdown if pushdown is not None else draw_pushdown(
            scenario, district, streams["pushdown"])
        self.uniform = Uniforms(streams["routing"])
        self.escalation = Sampler(scenario.process.escalation_delay, streams["escalation"])
        self.bounce_delay = Sampler(scenario.process.bounce.delay, streams["bounce"])
        self.pushdown_work = Sampler(scenario.process.pushdown.work, streams["pushdown.work"])
        self.levels, self.units = self._build_units(streams)
        self.community_of_grid = district.community_of_grid.tolist()
        self.street_of_grid = district.street_of_grid.tolist()
        self.branch = district.branch.tolist()
        self.guided = district.guided.tolist()
        p = scenario.process
        self.guide_delay = p.guide_effect.delay_factor
        self.tasks_first = p.pushdown.priority == "first"
        self.follow_up = scenario.residents.follow_up_every_days
        self.complaints: list[Complaint] = []
        self.meeting: deque[tuple[int, Complaint | None, float]] = deque()
        self._calls: deque[tuple[float, Complaint]] = deque()   # follow-up calls, due in order
        self._call_booked = False
        self._schedule = self.env.schedule
        self._meets = scenario.levels.leadership.meets
        route = self.rules.route
        self._entry_level = [route[1] if route[0] == GRID and not b else route[0] for b in self.branch]
        # The complaint stream as plain lists: indexing numpy arrays one item at a time is slow.
        stream = self.stream
        self._day, self._grid, self._needs = stream.day.tolist(), stream.grid.tolist(), stream.needs.tolist()
        self._unclear, self._department = stream.unclear.tolist(), stream.department.tolist()
        self._patience, self._duplicates = stream.patience.tolist(), stream.duplicates.tolist()
        self._tasks = (self.pushdown_day.tolist(), self.pushdown_community.tolist())
        self.events: list[tuple[int, float, int, int, int]] | None = [] if record_events else None

    def _build_units(self, streams: Streams) -> tuple[list[LevelStats], list[list[Unit]]]:
        d, cfg = self.district, self.scenario.levels
        counts = (d.grids, d.communities, d.streets, d.departments, 1, 1)
        levels, units = [], []
        for index, name in enumerate(LEVELS):
            spec = getattr(cfg, name)
            staff = 0 if spec.staff is None else spec.staff
            handle = None if spec.handle is None else Sampler(spec.handle, streams[f"{name}.handle"])
            # only grids with a party branch have staff who take problems
            staffed_units = int(d.branch.sum()) if index == GRID else counts[index]
            stats = LevelStats(index, staff, staffed_units, handle,
                               Sampler(spec.resolve, streams[f"{name}.resolve"]))
            levels.append(stats)
            units.append([Unit(stats, i, staff) for i in range(counts[index])])
        return levels, units

    # ------------------------------------------------------------------ running
    def run(self) -> ReplicationRecords:
        """Simulate to the horizon and hand back the records."""
        self._next_arrival = self._next_task = 0
        if len(self.stream):
            self._at(self._day[0], self._arrive)
        if len(self.pushdown_day):
            self._at(self._tasks[0][0], self._push_down)
        leadership = self.scenario.levels.leadership
        if leadership.meets:
            self._after(leadership.meeting_every_days, self._meet)
        with _no_cyclic_gc():
            self.env.run(until=self.horizon)
        self._close_at_horizon()
        if self.events is not None:
            self.events.sort(key=lambda e: e[1])       # withdrawals are logged when found
        records = ReplicationRecords.from_world(self)
        self._let_go()
        return records

    def _let_go(self) -> None:
        """Break the reference cycles a finished world sits in, so that it is freed as soon
        as the caller lets go of it rather than at some later full garbage collection (a run
        of many replications would otherwise hold several replications at once): steps
        still scheduled past the horizon call back into the world, and SimPy's environment
        is itself a cycle; queued work points at complaints that point at their units."""
        self.env._queue.clear()       # SimPy has no public call to drop pending events
        for row in self.units:
            for unit in row:
                unit.queue.clear()
                unit.front.clear()
        self.meeting.clear()
        self._calls.clear()

    def _after(self, delay: float, callback: Callable[[Any], None]) -> None:
        self._schedule(Wake(callback), NORMAL, delay)

    def _at(self, day: float, callback: Callable[[Any], None]) -> None:
        delay = day - self.env.now
        self._schedule(Wake(callback), NORMAL, delay if delay > 0.0 else 0.0)

    def _log(self, c: Complaint, activity: Activity, level: int, unit: int,
             day: float | None = None) -> None:
        """Record a step of the complaint's life (hot callers check ``self.events`` first)."""
        if self.events is not None:
            self.events.append((c.id, self.env.now if day is None else day, activity, level, unit))

    # ------------------------------------------------------------------ arrivals
    def _arrive(self, _: Any) -> None:
        i, now = self._next_arrival, self.env.now
        grid = self._grid[i]
        c = Complaint(i, now, grid, self._needs[i], self._unclear[i], self._department[i],
                      now + self._patience[i])
        self.complaints.append(c)
        level = self._entry_level[grid]
        c.entry = unit = self.unit_of(level, c)
        if self.events is not None:
            self._log(c, Activity.ARRIVE, level, unit.index)
        self._visit(c, unit)
        for _ in range(self._duplicates[i]):
            c.contacts += 1
            self._enqueue(unit, CONTACT, c)
        self._remind(c)
        i += 1
        self._next_arrival = i
        if i < len(self._day):
            self._schedule(Wake(self._arrive), NORMAL, self._day[i] - now)

    def _push_down(self, _: Any) -> None:
        i = self._next_task
        day, community = self._tasks
        self._enqueue(self.units[1][community[i]], TASK, None)
        self._next_task = i + 1
        if i + 1 < len(day):
            self._at(day[i + 1], self._push_down)

    def unit_of(self, level: int, c: Complaint) -> Unit:
        """The unit of ``level`` responsible for the complaint's grid or department."""
        if level == 0:
            return self.units[0][c.grid]
        if level == 1:
            return self.units[1][self.community_of_grid[c.grid]]
        if level == 2:
            return self.units[2][self.street_of_grid[c.grid]]
        if level == 3:
            return self.units[3][c.department]
        return self.units[level][0]

    # ------------------------------------------------------------------ residents
    def _gone(self, c: Complaint) -> bool:
        """Closed, or the resident's patience has run out. A complaint that was waiting,
        delayed or stalled is then withdrawn, as of the deadline; one a unit is working on
        ends when that step ends (``_carry_out``)."""
        if c.state == CLOSED:
            return True
        if self.env.now < c.deadline:
            return False
        if c.state != SERVICE:
            self._give_up(c)
        return True

    def _give_up(self, c: Complaint) -> None:
        """Withdraw the complaint as of its deadline (it was waiting, delayed or stalled)."""
        c.state, c.outcome, c.closed_day = CLOSED, ABANDONED, c.deadline
        self._log(c, Activity.ABANDON, c.at.level.index, c.at.index, day=c.deadline)

    def _remind(self, c: Complaint) -> None:
        """Book the resident's next call, ``follow_up_every_days`` from now, if they will
        still be waiting then.

        Calls are due in the order they are booked (every resident waits the same interval),
        so one FIFO holds them and one scheduled event, for the earliest, serves them all;
        residents whose complaint closed meanwhile are dropped without an event."""
        if self.follow_up is None:
            return
        due = self.env.now + self.follow_up
        if due < self.horizon and due < c.deadline:
            self._calls.append((due, c))
            self._wake_for_calls()

    def _wake_for_calls(self) -> None:
        if self._calls and not self._call_booked:
            self._call_booked = True
            self._at(self._calls[0][0], self._call_back)

    def _call_back(self, _: Any) -> None:
        """Residents due now contact their entry unit again; then wait for the next one due."""
        calls, now = self._calls, self.env.now
        self._call_booked = False
        while calls and calls[0][0] <= now:
            _, c = calls.popleft()
            if c.state != CLOSED:
                c.contacts += 1
                self._log(c, Activity.FOLLOW_UP, c.entry.level.index, c.entry.index)
                self._enqueue(c.entry, CONTACT, c)
                self._remind(c)
        while calls and calls[0][1].state == CLOSED:
            calls.popleft()
        self._wake_for_calls()

    def _close(self, c: Complaint, outcome: int, level: int, unit: int = -1) -> None:
        c.state, c.outcome, c.closed_day = CLOSED, outcome, self.env.now
        c.resolved_level = level if outcome == RESOLVED else -1
        if self.events is not None:
            self._log(c, Activity.RESOLVE if outcome == RESOLVED else Activity.ABANDON, level, unit)

    # ------------------------------------------------------------------ units
    def _visit(self, c: Complaint, unit: Unit) -> None:
        c.at = unit
        if self._meets and unit.level.index == LEADERSHIP:
            c.state = QUEUED
            self.meeting.append((VISIT, c, self.env.now))
            self._log(c, Activity.QUEUE, LEADERSHIP, 0)
            return
        self._enqueue(unit, VISIT, c)

    def _enqueue(self, unit: Unit, kind: int, c: Complaint | None) -> None:
        if unit.staff == 0:            # the leading group in meeting mode takes no calls
            return
        if unit.busy < unit.staff:
            self._start(unit, kind, c, self.env.now)
            return
        if kind == VISIT:
            c.state = QUEUED
            if self.events is not None:
                self._log(c, Activity.QUEUE, unit.level.index, unit.index)
        (unit.front if kind == TASK and self.tasks_first else unit.queue).append((kind, c, self.env.now))

    def _start(self, unit: Unit, kind: int, c: Complaint | None, queued: float) -> None:
        """A staff member takes the work: decide, draw its duration, book the time."""
        now, level = self.env.now, unit.level
        if queued < now:
            level.queue_days += now - queued if queued >= self.warmup else self._in_window(queued, now)
        action = Action.RESOLVE
        if kind == VISIT:
            c.wait += now - queued
            c.state = SERVICE
            action = decide(self.rules, level.index, c.needs, c.unclear, c.bounces,
                            level.index == GRID and self.guided[c.grid], self.uniform)
            duration = level.resolve() if action == Action.RESOLVE else level.handle()
            if self.events is not None:
                self._log(c, Activity.START, level.index, unit.index)
        elif kind == CONTACT:
            duration = level.handle()
        else:
            duration = self.pushdown_work()
        end = now + duration
        busy = duration if now >= self.warmup and end <= self.horizon else self._in_window(now, end)
        level.busy_days += busy
        if kind == TASK:
            level.pushdown_days += busy
        unit.busy += 1
        self._schedule(Wake(lambda _: self._finish(unit, kind, c, action)), NORMAL, duration)

    def _finish(self, unit: Unit, kind: int, c: Complaint | None, action: Action) -> None:
        """The step ends: carry out its decision, then the staff member takes the next item."""
        unit.busy -= 1
        if kind == VISIT:
            self._carry_out(c, unit, action)
        self._serve_next(unit)

    def _serve_next(self, unit: Unit) -> None:
        while unit.busy < unit.staff and (unit.front or unit.queue):
            kind, c, queued = (unit.front or unit.queue).popleft()
            if c is not None and self._gone(c):           # withdrawn while waiting
                self._left_queue(unit.level, kind, c, queued)
                continue
            self._start(unit, kind, c, queued)

    def _left_queue(self, level: LevelStats, kind: int, c: Complaint, queued: float) -> None:
        """Account for waiting that ended when the resident gave up (or the case closed)."""
        end = min(c.closed_day if c.state == CLOSED else self.horizon, c.deadline, self.horizon)
        level.queue_days += self._in_window(queued, end)
        if kind == VISIT and end > queued:
            c.wait += end - queued

    def _carry_out(self, c: Complaint, unit: Unit, action: Action) -> None:
        """Do what routing decided when the step began."""
        level = unit.level.index
        if action == Action.RESOLVE:
            self._close(c, RESOLVED, level, unit.index)
        elif self.env.now >= c.deadline:                  # gave up while this step ran
            self._close(c, ABANDONED, level, unit.index)
        elif action == Action.ESCALATE:
            delay = self.escalation()
            if level == GRID and self.guided[c.grid]:
                delay *= self.guide_delay
            self._pass_on(c, self.rules.next_level[level], delay, Activity.ESCALATE, unit)
        elif action == Action.BOUNCE:
            c.bounces += 1
            # back to bounce.to, or to where it entered if it never passed that level
            back = max(self.rules.bounce_to, c.entry.level.index)
            self._pass_on(c, back, self.bounce_delay(), Activity.BOUNCE, unit)
        else:
            c.state = STALLED
            self._log(c, Activity.STALL, level, unit.index)

    def _pass_on(self, c: Complaint, level: int, delay: float, activity: Activity, unit: Unit) -> None:
        c.handoffs += 1
        c.state = DELAY
        if self.events is not None:
            self._log(c, activity, unit.level.index, unit.index)
        target = self.unit_of(level, c)
        self._after(delay, lambda _: self._hand_over(c, target))

    def _hand_over(self, c: Complaint, unit: Unit) -> None:
        if self._gone(c):                                  # gave up on the way
            return
        if self.events is not None:
            self._log(c, Activity.HANDOFF, unit.level.index, unit.index)
        self._visit(c, unit)

    # ------------------------------------------------------------------ leading group
    def _meet(self, _: Any) -> None:
        """A meeting takes up the waiting items, oldest first, up to its agenda's length."""
        group = self.levels[LEADERSHIP]
        spec = self.scenario.levels.leadership
        limit = spec.items_per_meeting or len(self.meeting)
        now, taken = self.env.now, 0
        if now >= self.warmup:
            group.meetings += 1
        while self.meeting and taken < limit:
            kind, c, queued = self.meeting.popleft()
            if self._gone(c):
                self._left_queue(group, kind, c, queued)
                continue
            group.queue_days += self._in_window(queued, now)
            c.wait += now - queued
            c.state = SERVICE
            taken += 1
            self._log(c, Activity.START, LEADERSHIP, 0)
            self._after(group.resolve(), lambda _, c=c: self._close(c, RESOLVED, LEADERSHIP, 0))
        if now >= self.warmup:
            group.taken += taken
        self._after(spec.meeting_every_days, self._meet)

    # ------------------------------------------------------------------ accounting
    def _in_window(self, start: float, end: float) -> float:
        """Length of [start, end] inside the measurement window [warmup, horizon]."""
        return max(0.0, min(end, self.horizon) - max(start, self.warmup))

    def _close_at_horizon(self) -> None:
        """Settle what is still waiting at the horizon: queue time, and residents whose
        patience ran out before it while their complaint waited, was delayed or stalled."""
        for c in self.complaints:
            if c.state != CLOSED and c.state != SERVICE and c.deadline < self.horizon:
                self._give_up(c)
        waiting = [(u.level, j) for row in self.units for u in row for j in (*u.front, *u.queue)]
        waiting += [(self.levels[LEADERSHIP], j) for j in self.meeting]
        for level, (kind, c, queued) in waiting:
            if c is None:
                level.queue_days += self._in_window(queued, self.horizon)
            else:
                self._left_queue(level, kind, c, queued)
