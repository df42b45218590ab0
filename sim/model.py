"""The SimPy world: offices with staff, residents with problems, and a complaint's life.

Mrs Wang's stairwell drain is blocked. She tells her grid's party branch (or, in the old
process, her community office). The office queues her problem for one of its staff, who
either resolves it (``resolve`` time) or triages it and passes it on (``handle`` time); the
routing rules say which and where to. While she waits she calls back every so often, and if
her patience runs out she gives up. Departments meanwhile push their own tasks onto the
communities, which take staff time her problem needed.

Each office is a unit with ``staff`` servers and a FIFO queue. The life of a complaint is a
chain of SimPy timeouts with callbacks (arrive, queue, start, finish, pass on) rather than one
generator process per complaint: the same events, without a process per resident. The model
never decides where a complaint goes: it asks ``routing.decide`` and carries the answer out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy
from simpy.events import Timeout

from sim.arrivals import ComplaintStream, draw_complaints, draw_pushdown
from sim.config import LEVELS, Scenario
from sim.distributions import Sampler, Uniforms
from sim.district import District
from sim.records import Activity, ReplicationRecords
from sim.routing import GRID, LEADERSHIP, Action, Rules, decide
from sim.streams import ARRIVAL_PURPOSES, Streams

VISIT, CONTACT, TASK = 0, 1, 2              # kinds of work a unit's staff does
QUEUED, SERVICE, DELAY, STALLED, CLOSED = range(5)
RESOLVED, ABANDONED, OPEN = 0, 1, 2          # outcomes, as in records.OUTCOMES


class Complaint:
    """One resident's problem and its state in the run."""

    __slots__ = ("id", "arrival", "grid", "needs", "unclear", "department", "entry",
                 "state", "expired", "outcome", "closed_day", "resolved_level",
                 "handoffs", "bounces", "contacts", "wait")

    def __init__(self, cid: int, arrival: float, grid: int, needs: int, unclear: bool,
                 department: int) -> None:
        self.id, self.arrival, self.grid, self.needs = cid, arrival, grid, needs
        self.unclear, self.department = unclear, department
        self.entry: Unit | None = None
        self.state, self.expired, self.outcome = QUEUED, False, OPEN
        self.closed_day, self.resolved_level = float("nan"), -1
        self.handoffs = self.bounces = 0
        self.contacts = 1
        self.wait = 0.0


class LevelStats:
    """Work done at one level inside the measurement window [warmup, horizon]."""

    __slots__ = ("index", "name", "staff", "units", "handle", "resolve", "busy_days",
                 "queue_days", "pushdown_days", "meetings", "taken")

    def __init__(self, index: int, staff: int, units: int, handle: Sampler | None,
                 resolve: Sampler) -> None:
        self.index, self.name, self.staff, self.units = index, LEVELS[index], staff, units
        self.handle, self.resolve = handle, resolve
        self.busy_days = self.queue_days = self.pushdown_days = 0.0
        self.meetings = self.taken = 0


class Unit:
    """One office: ``staff`` servers, a FIFO queue, and a front queue for priority tasks."""

    __slots__ = ("level", "index", "staff", "busy", "queue", "front")

    def __init__(self, level: LevelStats, index: int, staff: int) -> None:
        self.level, self.index, self.staff, self.busy = level, index, staff, 0
        self.queue: deque[tuple[int, Complaint | None, float]] = deque()
        self.front: deque[tuple[int, Complaint | None, float]] = deque()


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
        self.pushdown_work = Sampler(scenario.process.pushdown.work, streams["pushdown"])
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
        self.events: list[tuple[int, float, int, int, int]] | None = [] if record_events else None

    def _build_units(self, streams: Streams) -> tuple[list[LevelStats], list[list[Unit]]]:
        d, cfg = self.district, self.scenario.levels
        counts = (d.grids, d.communities, d.streets, d.departments, 1, 1)
        levels, units = [], []
        for index, name in enumerate(LEVELS):
            spec = getattr(cfg, name)
            staff = 0 if spec.staff is None else spec.staff
            handle = None if spec.handle is None else Sampler(spec.handle, streams[f"{name}.handle"])
            stats = LevelStats(index, staff, counts[index], handle,
                               Sampler(spec.resolve, streams[f"{name}.resolve"]))
            levels.append(stats)
            units.append([Unit(stats, i, staff) for i in range(counts[index])])
        return levels, units

    # ------------------------------------------------------------------ running
    def run(self) -> ReplicationRecords:
        """Simulate to the horizon and hand back the records."""
        if len(self.stream):
            self._at(float(self.stream.day[0]), self._arrive)
        if len(self.pushdown_day):
            self._at(float(self.pushdown_day[0]), self._push_down)
        leadership = self.scenario.levels.leadership
        if leadership.meets:
            self.meeting: deque[tuple[int, Complaint | None, float]] = deque()
            self._after(leadership.meeting_every_days, self._meet)
        self._next_arrival = self._next_task = 0
        self.env.run(until=self.horizon)
        self._close_queues()
        return ReplicationRecords.from_world(self)

    def _after(self, delay: float, callback: Callable[[Any], None]) -> None:
        Timeout(self.env, delay).callbacks.append(callback)

    def _at(self, day: float, callback: Callable[[Any], None]) -> None:
        self._after(max(day - self.env.now, 0.0), callback)

    def _log(self, c: Complaint, activity: Activity, level: int, unit: int) -> None:
        if self.events is not None:
            self.events.append((c.id, self.env.now, activity, level, unit))

    # ------------------------------------------------------------------ arrivals
    def _arrive(self, _: Any) -> None:
        i, s = self._next_arrival, self.stream
        c = Complaint(i, self.env.now, int(s.grid[i]), int(s.needs[i]), bool(s.unclear[i]),
                      int(s.department[i]))
        self.complaints.append(c)
        route = self.rules.route
        entry_level = route[1] if route[0] == GRID and not self.branch[c.grid] else route[0]
        c.entry = self.unit_of(entry_level, c)
        self._log(c, Activity.ARRIVE, entry_level, c.entry.index)
        self._visit(c, c.entry)
        for _ in range(int(s.duplicates[i])):
            c.contacts += 1
            self._enqueue(c.entry, CONTACT, c)
        patience = float(s.patience[i])
        if c.arrival + patience < self.horizon:
            self._after(patience, lambda _, c=c: self._give_up(c))
        if self.follow_up is not None and c.arrival + self.follow_up < self.horizon:
            self._after(self.follow_up, lambda _, c=c: self._contact_again(c))
        self._next_arrival = i + 1
        if i + 1 < len(s):
            self._at(float(s.day[i + 1]), self._arrive)

    def _push_down(self, _: Any) -> None:
        i = self._next_task
        self._enqueue(self.units[1][int(self.pushdown_community[i])], TASK, None)
        self._next_task = i + 1
        if i + 1 < len(self.pushdown_day):
            self._at(float(self.pushdown_day[i + 1]), self._push_down)

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
    def _give_up(self, c: Complaint) -> None:
        """Patience ran out: withdraw now, or when the step a unit is working on ends."""
        if c.state == CLOSED:
            return
        if c.state == SERVICE:
            c.expired = True
            return
        self._close(c, ABANDONED, -1)

    def _contact_again(self, c: Complaint) -> None:
        if c.state == CLOSED:
            return
        c.contacts += 1
        self._log(c, Activity.FOLLOW_UP, c.entry.level.index, c.entry.index)
        self._enqueue(c.entry, CONTACT, c)
        if self.env.now + self.follow_up < self.horizon:
            self._after(self.follow_up, lambda _: self._contact_again(c))

    def _close(self, c: Complaint, outcome: int, level: int, unit: int = -1) -> None:
        c.state, c.outcome, c.closed_day, c.resolved_level = CLOSED, outcome, self.env.now, level
        self._log(c, Activity.RESOLVE if outcome == RESOLVED else Activity.ABANDON, level, unit)

    # ------------------------------------------------------------------ units
    def _visit(self, c: Complaint, unit: Unit) -> None:
        if unit.level.index == LEADERSHIP and self.scenario.levels.leadership.meets:
            c.state = QUEUED
            self.meeting.append((VISIT, c, self.env.now))
            self._log(c, Activity.QUEUE, LEADERSHIP, 0)
            return
        self._enqueue(unit, VISIT, c)

    def _enqueue(self, unit: Unit, kind: int, c: Complaint | None) -> None:
        if unit.busy < unit.staff:
            self._start(unit, kind, c, self.env.now)
            return
        if kind == VISIT:
            c.state = QUEUED
            self._log(c, Activity.QUEUE, unit.level.index, unit.index)
        (unit.front if kind == TASK and self.tasks_first else unit.queue).append((kind, c, self.env.now))

    def _start(self, unit: Unit, kind: int, c: Complaint | None, queued: float) -> None:
        now, level = self.env.now, unit.level
        level.queue_days += self._in_window(queued, now)
        action = Action.RESOLVE
        if kind == VISIT:
            c.wait += now - queued
            c.state = SERVICE
            action = decide(self.rules, level.index, c.needs, c.unclear, c.bounces,
                            level.index == GRID and self.guided[c.grid], self.uniform)
            duration = level.resolve() if action == Action.RESOLVE else level.handle()
            self._log(c, Activity.START, level.index, unit.index)
        elif kind == CONTACT:
            duration = level.handle()
        else:
            duration = self.pushdown_work()
            level.pushdown_days += self._in_window(now, now + duration)
        level.busy_days += self._in_window(now, now + duration)
        unit.busy += 1
        self._after(duration, lambda _: self._finish(unit, kind, c, action))

    def _finish(self, unit: Unit, kind: int, c: Complaint | None, action: Action) -> None:
        unit.busy -= 1
        self._serve_next(unit)
        if kind == VISIT:
            self._carry_out(c, unit, action)

    def _serve_next(self, unit: Unit) -> None:
        while unit.busy < unit.staff and (unit.front or unit.queue):
            kind, c, queued = (unit.front or unit.queue).popleft()
            if c is not None and c.state == CLOSED:      # withdrawn while waiting
                unit.level.queue_days += self._in_window(queued, c.closed_day)
                if kind == VISIT:
                    c.wait += c.closed_day - queued
                continue
            self._start(unit, kind, c, queued)

    def _carry_out(self, c: Complaint, unit: Unit, action: Action) -> None:
        """Do what routing decided when the step began."""
        level = unit.level.index
        if action == Action.RESOLVE:
            self._close(c, RESOLVED, level, unit.index)
        elif c.expired:
            self._close(c, ABANDONED, -1)
        elif action == Action.ESCALATE:
            delay = self.escalation()
            if level == GRID and self.guided[c.grid]:
                delay *= self.guide_delay
            self._pass_on(c, self.rules.next_level[level], delay, Activity.ESCALATE, unit)
        elif action == Action.BOUNCE:
            c.bounces += 1
            self._pass_on(c, self.rules.bounce_to, self.bounce_delay(), Activity.BOUNCE, unit)
        else:
            c.state = STALLED
            self._log(c, Activity.STALL, level, unit.index)

    def _pass_on(self, c: Complaint, level: int, delay: float, activity: Activity, unit: Unit) -> None:
        c.handoffs += 1
        c.state = DELAY
        self._log(c, activity, unit.level.index, unit.index)
        target = self.unit_of(level, c)
        self._after(delay, lambda _: self._hand_over(c, target))

    def _hand_over(self, c: Complaint, unit: Unit) -> None:
        if c.state == CLOSED:                              # gave up on the way
            return
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
            _, c, queued = self.meeting.popleft()
            if c.state == CLOSED:
                group.queue_days += self._in_window(queued, c.closed_day)
                c.wait += c.closed_day - queued
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

    def _close_queues(self) -> None:
        """Queue time of work still waiting at the horizon."""
        waiting = [(u.level, j) for row in self.units for u in row for j in (*u.front, *u.queue)]
        if self.scenario.levels.leadership.meets:
            waiting += [(self.levels[LEADERSHIP], j) for j in self.meeting]
        for level, (kind, c, queued) in waiting:
            end = c.closed_day if c is not None and c.state == CLOSED else self.horizon
            level.queue_days += self._in_window(queued, end)
            if kind == VISIT:
                c.wait += end - queued
