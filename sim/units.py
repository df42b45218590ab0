"""The things the SimPy world is made of: complaints, offices (units) and their levels.

A ``Complaint`` carries one resident's problem and where it stands; a ``Unit`` is one office
with ``staff`` servers and a FIFO queue (and a front queue for push-down tasks that go
first); ``LevelStats`` adds up the work of all units of one level inside the measurement
window; a ``Wake`` is the already-triggered SimPy event the world schedules for each step.
All are plain slotted objects: the event loop touches them millions of times a run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from sim.config import LEVELS
from sim.distributions import Sampler

VISIT, CONTACT, TASK = 0, 1, 2              # kinds of work a unit's staff does
QUEUED, SERVICE, DELAY, STALLED, CLOSED = range(5)
RESOLVED, ABANDONED, OPEN = 0, 1, 2          # outcomes, as in records.OUTCOMES


class Complaint:
    """One resident's problem and its state in the run."""

    __slots__ = ("id", "arrival", "grid", "needs", "unclear", "department", "deadline", "entry", "at",
                 "state", "outcome", "closed_day", "resolved_level",
                 "handoffs", "bounces", "contacts", "wait")

    def __init__(self, cid: int, arrival: float, grid: int, needs: int, unclear: bool,
                 department: int, deadline: float) -> None:
        self.id, self.arrival, self.grid, self.needs = cid, arrival, grid, needs
        self.unclear, self.department, self.deadline = unclear, department, deadline
        self.entry: Unit | None = None     # where the resident brought it, and calls back
        self.at: Unit | None = None        # the unit it is at, or is being passed on from
        self.state, self.outcome = QUEUED, OPEN
        self.closed_day, self.resolved_level = float("nan"), -1
        self.handoffs = self.bounces = 0
        self.contacts = 1
        self.wait = 0.0


class Wake:
    """An already-triggered SimPy event carrying one callback: what ``Environment.run`` uses
    for its own ``until`` event, and lighter than a ``Timeout`` for the model's many steps."""

    __slots__ = ("callbacks", "_ok", "_value")

    def __init__(self, callback: Callable[[Any], None]) -> None:
        self.callbacks = [callback]
        self._ok = True
        self._value = None


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
