"""The SimPy world: offices with staff, residents with problems, and a complaint's life.

Mrs Wang's stairwell drain is blocked. She tells her grid's party branch (or, in the old
process, her community office). The office queues her problem for one of its staff, who
either resolves it (``resolve`` time) or triages it and passes it on (``handle`` time); the
routing rules say which and where to. A resolution may wait ``lead`` days for a contractor
without holding anyone, and may not hold: then she reports it again. Every call she makes
costs the office's staff time. Departments meanwhile push their own tasks onto the
communities, which take staff time her problem needed.

The world wires small collaborators: units own their queue discipline (sim/units.py),
residents their calls and reopens (sim/residents.py), the leading group its meetings
(sim/meetings.py), routing.py every rule, draws.py each complaint's own random numbers. A
complaint's life is a chain of steps (sim/steps.py) scheduled on the SimPy environment's own
queue in SimPy's order (sim/engine.py), not a process per resident: a researcher can add a
SimPy process to ``world.env`` (``report`` raises a complaint). It is compiled (sim/native.py).
"""

from __future__ import annotations

from typing import cast

import numpy as np
import simpy
from mypy_extensions import mypyc_attr

from sim import routing, steps
from sim.arrivals import ComplaintStream, Intake, draw_complaints, draw_pushdown
from sim.config import LEVELS, Scenario
from sim.distributions import Sampler
from sim.district import District
from sim.draws import (
    DRAW_BOUNCE,
    DRAW_CONTACT,
    DRAW_ESCALATE,
    DRAW_HANDLE,
    DRAW_LEAD,
    DRAW_RESOLVE,
    ComplaintDraws,
)
from sim.engine import Clock, no_cyclic_gc
from sim.meetings import LeadingGroup
from sim.records import Activity, ReplicationRecords
from sim.residents import Residents
from sim.routing import BOUNCE, ESCALATE, GRID, LEADERSHIP, RESOLVE, Rules
from sim.steps import Implemented, LeadOver, finish, hand_over
from sim.streams import ARRIVAL_PURPOSES, Streams
from sim.units import (
    ABANDONED,
    CLOSED,
    CONTACT,
    DELAY,
    LEAD,
    QUEUED,
    RESOLVED,
    SERVICE,
    STALLED,
    TASK,
    VISIT,
    Complaint,
    Item,
    LevelStats,
    Unit,
)


@mypyc_attr(allow_interpreted_subclasses=True)
class World:
    """One replication of one scenario: build with streams, call ``run()`` once."""

    def __init__(self, scenario: Scenario, district: District, streams: Streams,
                 replication: int = 0, record_events: bool = False,
                 complaints: ComplaintStream | None = None,
                 pushdown: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """``complaints`` and ``pushdown`` (times, communities) replace the drawn streams:
        for trace tests that need complaints at chosen times."""
        self.scenario, self.district, self.replication = scenario, district, replication
        self.clock = Clock()
        self.rules = Rules.of(scenario)
        stream = complaints if complaints is not None else draw_complaints(
            scenario, district, streams.child("arrivals", ARRIVAL_PURPOSES))
        tasks = pushdown if pushdown is not None else draw_pushdown(scenario, district, streams["pushdown"])
        self.intake = Intake(stream, tasks, Sampler(scenario.process.pushdown.work, streams["pushdown.work"]))
        self.draws = ComplaintDraws(scenario, streams.sequence("complaints"), len(stream))
        self.levels, self.units = self._build_units()
        self.residents = Residents(self.clock, scenario.residents.follow_up_every_days,
                                   scenario.horizon_days, self.draws, self)
        self.group = (LeadingGroup(self.clock, scenario.levels.leadership, self.levels[LEADERSHIP],
                                   scenario.warmup_days, self._take_up)
                      if scenario.levels.leadership.meets else None)
        self.complaints: list[Complaint] = []
        self.events: list[tuple[int, float, int, int, int]] | None = [] if record_events else None
        self._window: tuple[float, float] = (scenario.warmup_days, scenario.horizon_days)
        # per grid: community, street, guided, entry level
        self._grids: tuple[list[int], list[int], list[bool], list[int]] = (
            district.community_of_grid.tolist(), district.street_of_grid.tolist(), district.guided.tolist(),
            [routing.entry_level(self.rules, b) for b in district.branch.tolist()])

    @property
    def env(self) -> simpy.Environment:
        """The SimPy environment the steps run on: add a process of your own before ``run()``."""
        return self.clock.env

    def _build_units(self) -> tuple[list[LevelStats], list[list[Unit]]]:
        d, cfg = self.district, self.scenario.levels
        counts = (d.grids, d.communities, d.streets, d.departments, 1, 1)
        tasks_first = self.scenario.process.pushdown.priority == "first"
        levels, units = [], []
        for index, name in enumerate(LEVELS):
            staff = getattr(cfg, name).staff or 0
            # only grids with a party branch have staff who take problems
            stats = LevelStats(index, staff, int(d.branch.sum()) if index == GRID else counts[index])
            levels.append(stats)
            units.append([Unit(stats, i, staff, tasks_first) for i in range(counts[index])])
        return levels, units

    # ------------------------------------------------------------------ running
    def run(self) -> ReplicationRecords:
        """Simulate to the horizon and hand back the records."""
        self.intake.start(self.clock, self)
        if self.group is not None:
            self.group.start()
        with no_cyclic_gc():
            self.clock.run(self.scenario.horizon_days)
            self._close_at_horizon()
            if self.events is not None:
                self.events.sort(key=lambda e: e[1])       # withdrawals are logged when found
            records = ReplicationRecords.from_world(self)
            self._let_go()
        return records

    def _let_go(self) -> None:
        """Drop the complaints (in the records now), all that points at them and the run's lists:
        the world is a cycle (its parts call it back) that only a full collection would free."""
        for unit in (unit for row in self.units for unit in row):
            unit.clear()
        if self.group is not None:
            self.group.agenda.clear()
        self.clock.clear()
        steps.let_go()
        self.residents.clear()
        self.intake.let_go()
        self.draws.let_go()
        self.complaints = []

    def report(self, grid: int, needs: int, unclear: bool = False, department: int = 0,
               category: int = 0, patience: float = float("inf")) -> Complaint:
        """Raise a complaint now in ``grid``, beside the drawn stream (a researcher's campaign)."""
        c = self.intake.add(self.clock.now, grid, category, needs, unclear, department, patience)
        self._enter(c, 0)
        return c

    def _log(self, c: Complaint, activity: Activity, level: int, unit: int,
             day: float | None = None) -> None:
        """Record a step of the complaint's life (hot callers check ``self.events`` first)."""
        if self.events is not None:
            self.events.append((c.id, self.clock.now if day is None else day, activity, level, unit))

    # ------------------------------------------------------------------ arrivals
    def _enter(self, c: Complaint, duplicates: int) -> None:
        self.complaints.append(c)
        level = self._grids[3][c.grid]
        c.entry = unit = self.unit_of(level, c)
        if self.events is not None:
            self._log(c, Activity.ARRIVE, level, unit.index)
        self._visit(c, unit)
        for _ in range(duplicates):
            c.contacts += 1
            self._enqueue(unit, CONTACT, c, self.clock.now, c.contacts - 2)
        self.residents.remind(c)

    def _push_down(self, community: int) -> None:
        self._enqueue(self.units[1][community], TASK, None, self.clock.now, -1)

    def unit_of(self, level: int, c: Complaint) -> Unit:
        """The unit of ``level`` responsible for the complaint's grid or department."""
        if level == 0:
            return self.units[0][c.grid]
        if level == 1:
            return self.units[1][self._grids[0][c.grid]]
        if level == 2:
            return self.units[2][self._grids[1][c.grid]]
        if level == 3:
            return self.units[3][self.intake.department[c.id]]
        return self.units[level][0]

    # ------------------------------------------------------------------ residents
    def _gone(self, c: Complaint) -> bool:
        """Closed, or patience ran out: a waiting, delayed or stalled complaint is then withdrawn
        as of the deadline; one a unit is working on ends when that step ends (``_carry_out``)."""
        if c.state == CLOSED:
            return True
        if self.clock.now < c.deadline:
            return False
        if c.state != SERVICE:
            self._give_up(c)
        return True

    def _give_up(self, c: Complaint) -> None:
        """Withdraw the complaint as of its deadline (it was waiting, delayed or stalled)."""
        c.state, c.outcome, c.closed_day = CLOSED, ABANDONED, c.deadline
        if self.events is not None:
            self._log(c, Activity.ABANDON, c.at.level.index, c.at.index, day=c.deadline)

    def _follow_up(self, c: Complaint) -> None:
        """A resident's follow-up call reaches the entry unit and costs its staff time."""
        if self.events is not None:
            self._log(c, Activity.FOLLOW_UP, c.entry.level.index, c.entry.index)
        self._enqueue(c.entry, CONTACT, c, self.clock.now, c.contacts - 2)

    def _reopened(self, c: Complaint) -> None:
        """The resident reports an unfixed problem again at the entry unit."""
        if self._gone(c):
            return
        c.contacts += 1
        if self.events is not None:
            self._log(c, Activity.REOPEN, c.entry.level.index, c.entry.index)
        self._visit(c, c.entry)

    def _close(self, c: Complaint, outcome: int, unit: Unit) -> None:
        c.state, c.outcome, c.closed_day, c.at = CLOSED, outcome, self.clock.now, unit
        if self.events is not None:
            self._log(c, Activity.RESOLVE if outcome == RESOLVED else Activity.ABANDON, unit.level.index,
                      unit.index)

    # ------------------------------------------------------------------ units
    def _visit(self, c: Complaint, unit: Unit) -> None:
        c.at = unit
        c.visits[unit.level.index] += 1
        if self.group is not None and unit.level.index == LEADERSHIP:
            c.state = QUEUED
            self.group.put((VISIT, c, self.clock.now, -1))
            if self.events is not None:
                self._log(c, Activity.QUEUE, LEADERSHIP, 0)
            return
        self._enqueue(unit, VISIT, c, self.clock.now, -1)

    def _enqueue(self, unit: Unit, kind: int, c: Complaint | None, queued: float, k: int) -> None:
        """Work for the unit: a free staff member starts it, else it waits (as an ``Item``)."""
        if unit.staff == 0:            # the leading group in meeting mode takes no calls
            return
        if unit.busy < unit.staff:
            self._start(unit, kind, c, queued, k)
            return
        if kind == VISIT and c is not None:
            c.state = QUEUED
            if self.events is not None:
                self._log(c, Activity.QUEUE, unit.level.index, unit.index)
        unit.put((kind, c, queued, k))

    def _start(self, unit: Unit, kind: int, c: Complaint | None, queued: float, k: int) -> None:
        """A staff member takes the work: decide, draw its duration, book the time."""
        now, level = self.clock.now, unit.level
        warmup, horizon = self._window
        if queued < now:
            level.queue_days += now - queued if queued >= warmup else self._in_window(queued, now)
        action = RESOLVE
        if c is None:
            duration = self.intake.work.next()
        else:
            li = level.index
            if kind == VISIT:
                k = c.visits[li] - 1
                c.wait += now - queued
                c.state = SERVICE
                intake = self.intake
                action = routing.decide(self.rules, li, intake.needs[c.id], intake.unclear[c.id], c.bounces,
                                li == GRID and self._grids[2][c.grid], self.draws.visit(li, k, c.id))
                duration = self.draws.draw(DRAW_RESOLVE if action == RESOLVE else DRAW_HANDLE, li, k, c.id)
                if self.events is not None:
                    self._log(c, Activity.START, li, unit.index)
            else:
                duration = self.draws.draw(DRAW_CONTACT, li, k, c.id)
        end = now + duration
        busy = duration if now >= warmup and end <= horizon else self._in_window(now, end)
        level.busy_days += busy
        if kind == TASK:
            level.pushdown_days += busy
        unit.busy += 1
        self.clock.at(duration, finish(self, unit, kind, c, action, k))

    def _finish(self, unit: Unit, kind: int, c: Complaint | None, action: int, k: int) -> None:
        """The step ends: carry out its decision, then the staff member takes the next item."""
        unit.busy -= 1
        if kind == VISIT and c is not None:
            self._carry_out(c, unit, action, k)
        self._serve_next(unit)

    def _serve_next(self, unit: Unit) -> None:
        while unit.busy < unit.staff and unit.waiting():
            kind, c, queued, k = unit.take()
            if kind == VISIT and c is not None and self._gone(c):      # withdrawn while waiting
                self._left_queue(unit.level, c, queued)
                continue
            self._start(unit, kind, c, queued, k)

    def _left_queue(self, level: LevelStats, c: Complaint, queued: float) -> None:
        """Account for a visit's waiting that ended when the resident gave up (or the case
        closed, or the run ended)."""
        horizon = self._window[1]
        end = min(c.closed_day if c.state == CLOSED else horizon, c.deadline, horizon)
        level.queue_days += self._in_window(queued, end)
        if end > queued:
            c.wait += end - queued

    def _carry_out(self, c: Complaint, unit: Unit, action: int, k: int) -> None:
        """Do what routing decided when the step began (``k``: this visit's index)."""
        level = unit.level.index
        if action == RESOLVE:
            self._resolved(c, unit, k)
        elif self.clock.now >= c.deadline:                # gave up while this step ran
            self._close(c, ABANDONED, unit)
        elif action == ESCALATE:
            delay = self.draws.draw(DRAW_ESCALATE, level, k, c.id)
            delay = routing.escalation_delay(self.rules, level, bool(self._grids[2][c.grid]), delay)
            self._pass_on(c, self.rules.next_level[level], delay, Activity.ESCALATE, unit)
        elif action == BOUNCE:
            c.bounces += 1
            self._pass_on(c, routing.bounce_target(self.rules, c.entry.level.index),
                          self.draws.draw(DRAW_BOUNCE, level, k, c.id), Activity.BOUNCE, unit)
        else:
            c.state = STALLED
            if self.events is not None:
                self._log(c, Activity.STALL, level, unit.index)

    def _resolved(self, c: Complaint, unit: Unit, k: int) -> None:
        """The staff's work on the fix is done: the lead time follows, holding no one."""
        lead = self.draws.draw(DRAW_LEAD, unit.level.index, k, c.id)
        if lead <= 0.0:
            self._closed(c, unit, k)
            return
        c.state = LEAD
        now, horizon = self.clock.now, self._window[1]
        c.lead += min(lead, horizon - now)
        end, level = now + lead, unit.level.index
        if end < horizon and routing.fix_holds(self.rules.fixes[level], self.draws.visit(level, k, c.id)):
            # it holds: no event; it stays LEAD with its outcome and day set (closure_booked)
            c.outcome, c.closed_day = RESOLVED, end
            if self.events is not None:
                self._log(c, Activity.RESOLVE, level, unit.index, day=end)
            return
        self.clock.at(lead, LeadOver(self, c, unit, k))

    def _closed(self, c: Complaint, unit: Unit, k: int) -> None:
        """The office closes the complaint: resolved if the fix holds, else it will reopen."""
        level = unit.level.index
        if routing.fix_holds(self.rules.fixes[level], self.draws.visit(level, k, c.id)):
            self._close(c, RESOLVED, unit)
            return
        c.reopens += 1
        if self.events is not None:
            self._log(c, Activity.RESOLVE, level, unit.index)
        if self.clock.now >= c.deadline:                  # the resident gave up meanwhile
            self._close(c, ABANDONED, unit)
            return
        c.at = unit
        self.residents.reopen(c)

    def _pass_on(self, c: Complaint, level: int, delay: float, activity: Activity, unit: Unit) -> None:
        c.handoffs += 1
        c.state = DELAY
        if self.events is not None:
            self._log(c, activity, unit.level.index, unit.index)
        self.clock.at(delay, hand_over(self, c, self.unit_of(level, c)))

    def _hand_over(self, c: Complaint, unit: Unit) -> None:
        if self._gone(c):                                  # gave up on the way
            return
        if self.events is not None:
            self._log(c, Activity.HANDOFF, unit.level.index, unit.index)
        self._visit(c, unit)

    # ------------------------------------------------------------------ leading group
    def _take_up(self, item: Item) -> bool:
        """A meeting takes up an item: its implementation (``resolve`` time) holds no one."""
        c, queued, group = cast(Complaint, item[1]), item[2], self.levels[LEADERSHIP]
        if self._gone(c):
            self._left_queue(group, c, queued)
            return False
        now = self.clock.now
        group.queue_days += self._in_window(queued, now)
        c.wait += now - queued
        c.state = SERVICE
        if self.events is not None:
            self._log(c, Activity.START, LEADERSHIP, 0)
        k = c.visits[LEADERSHIP] - 1
        self.clock.at(self.draws.draw(DRAW_RESOLVE, LEADERSHIP, k, c.id),
                      Implemented(self, c, self.units[LEADERSHIP][0], k))
        return True

    # ------------------------------------------------------------------ accounting
    def _in_window(self, start: float, end: float) -> float:
        """Length of [start, end] inside the measurement window [warmup, horizon]."""
        warmup, horizon = self._window
        return max(0.0, min(end, horizon) - max(start, warmup))

    def _close_at_horizon(self) -> None:
        """Settle what is still waiting at the horizon: queue time, and residents whose
        patience ran out before it while their complaint waited, was delayed, stalled or
        was to be reported again (a fix under way is not given up on)."""
        horizon = self.scenario.horizon_days
        for c in self.complaints:
            if c.closure_booked():
                c.state = CLOSED
            elif c.state != CLOSED and c.state != SERVICE and c.state != LEAD and c.deadline < horizon:
                self._give_up(c)
        for row in self.units:
            for unit in row:
                self._settle(unit.level, unit.items())
        if self.group is not None:
            self._settle(self.levels[LEADERSHIP], list(self.group.agenda))

    def _settle(self, level: LevelStats, items: list[Item]) -> None:
        for kind, c, queued, _ in items:
            if c is None or kind == CONTACT:
                level.queue_days += self._in_window(queued, self.scenario.horizon_days)
            else:
                self._left_queue(level, c, queued)
