"""The things the SimPy world is made of: complaints, offices (units) and their levels.

A ``Complaint`` carries one resident's problem and where it stands; a ``Unit`` is one office
with ``staff`` servers that owns its queue discipline (first come, first served, with
push-down tasks ahead of everything when they go first); ``LevelStats`` adds up the work of
all units of one level inside the measurement window. All are plain slotted objects: the
event loop touches them millions of times a run.
"""

from __future__ import annotations

import math
from collections import deque
from enum import IntEnum
from typing import Final

import numpy as np
from librt.vecs import append, vec
from mypy_extensions import i64

from sim.config import LEVELS


class Work(IntEnum):
    """What a staff member is doing: a complaint's visit, a resident's contact, a task."""

    VISIT = 0
    CONTACT = 1
    TASK = 2


class State(IntEnum):
    """Where a complaint stands."""

    QUEUED = 0         # waiting for a staff member
    SERVICE = 1        # a staff member is on it
    DELAY = 2          # on its way between units (escalation or bounce delay)
    STALLED = 3        # left lying: only the resident's patience ends it
    LEAD = 4           # the fix is under way (contractor, funding), holding no one
    REOPENING = 5      # closed but not fixed: the resident will report it again
    CLOSED = 6


class Outcome(IntEnum):
    """How a complaint ended; the codes of the ``outcome`` column (records.OUTCOMES)."""

    RESOLVED = 0
    ABANDONED = 1
    OPEN = 2


assert len(LEVELS) == 6, "Complaint.visits has one count per level"

# The same codes as plain constants, for the event loop: compiled, a Final int is a C constant
# where an enum member is a Python object looked up and compared by Python.
VISIT: Final = 0
CONTACT: Final = 1
TASK: Final = 2
QUEUED: Final = 0
SERVICE: Final = 1
DELAY: Final = 2
STALLED: Final = 3
LEAD: Final = 4
REOPENING: Final = 5
CLOSED: Final = 6
RESOLVED: Final = 0
ABANDONED: Final = 1
OPEN: Final = 2
NAN: Final = math.nan      # a closed day not yet known (``float("nan")`` would parse a string each time)
assert list(Work) == [VISIT, CONTACT, TASK]
assert list(State) == [QUEUED, SERVICE, DELAY, STALLED, LEAD, REOPENING, CLOSED]
assert list(Outcome) == [RESOLVED, ABANDONED, OPEN]

Item = tuple[int, "Complaint | None", float, int]
"""A unit's queued work: (kind, complaint or None for a task, day queued, k). ``k`` is the
contact's own index among its complaint's contacts (for its handle time); -1 otherwise."""


class Complaint:
    """One resident's problem and its state in the run (a slotted record: the loop's hot
    data). The facts that do not change (arrival day, category, needs, unclear, department)
    live in the run's intake lists, indexed by ``id``; ``grid`` is kept here too, as most
    steps ask for it."""

    __slots__ = ("id", "grid", "deadline", "entry", "at", "state", "outcome", "closed_day",
                 "visits", "handoffs", "bounces", "contacts", "reopens", "wait", "lead")

    entry: Unit        # where the resident brought it, and calls back (set on entry)
    at: Unit           # the unit it is at, or is being passed on from

    def __init__(self, cid: int, grid: int, deadline: float) -> None:
        self.id, self.grid, self.deadline = cid, grid, deadline
        self.state, self.outcome = QUEUED, OPEN
        self.closed_day = NAN
        self.visits = vec[i64]([0, 0, 0, 0, 0, 0])   # visits begun per level (LEVELS): the k of their draws
        self.handoffs = self.bounces = self.reopens = 0
        self.contacts = 1
        self.wait = self.lead = 0.0

    def closure_booked(self) -> bool:
        """A fix that holds, closed at ``closed_day`` without an event (``World._resolved``):
        it reads LEAD, with its outcome and day set, until the horizon closes it."""
        return self.state == LEAD and self.outcome == RESOLVED


class LevelStats:
    """Work done at one level inside the measurement window [warmup, horizon]."""

    __slots__ = ("index", "name", "staff", "units", "busy_days", "queue_days", "pushdown_days",
                 "meetings", "taken")

    def __init__(self, index: int, staff: int, units: int) -> None:
        self.index, self.name, self.staff, self.units = index, LEVELS[index], staff, units
        self.busy_days = self.queue_days = self.pushdown_days = 0.0
        self.meetings = self.taken = 0


class Unit:
    """One office: ``staff`` servers and its queue discipline (FIFO; tasks first if so set)."""

    __slots__ = ("level", "index", "staff", "busy", "queue", "front", "tasks_first", "queued")

    def __init__(self, level: LevelStats, index: int, staff: int, tasks_first: bool = False) -> None:
        self.level, self.index, self.staff, self.busy = level, index, staff, 0
        self.tasks_first = tasks_first
        self.queue: deque[Item] = deque()
        self.front: deque[Item] = deque()  # push-down tasks, when they go first
        self.queued = 0                    # items in both

    def put(self, item: Item) -> None:
        """Queue work for the next free staff member."""
        (self.front if self.tasks_first and item[0] == TASK else self.queue).append(item)
        self.queued += 1

    def take(self) -> Item:
        """The next work in the unit's order; only while ``waiting()``."""
        self.queued -= 1
        return (self.front or self.queue).popleft()

    def waiting(self) -> bool:
        return self.queued > 0

    def items(self) -> list[Item]:
        """Everything still queued, for the horizon's accounting."""
        return [*self.front, *self.queue]

    def clear(self) -> None:
        self.front.clear()
        self.queue.clear()
        self.queued = 0


def floats(values: np.ndarray) -> vec[float]:
    """An array's values as a typed array of C doubles (copied through the buffer protocol):
    compiled, reading one is an index into it, not a numpy call nor a boxed float."""
    return vec[float](np.ascontiguousarray(values, dtype=np.float64))


def ints(values: np.ndarray) -> vec[i64]:
    """An array's values as a typed array of 64-bit integers."""
    return vec[i64](np.ascontiguousarray(values, dtype=np.int64))


INT_FIELDS: Final = ("id", "grid", "outcome", "level", "entry_level", "handoffs", "bounces", "contacts",
                     "reopens")
FLOAT_FIELDS: Final = ("closed_day", "wait", "lead")


def columns(cs: list[Complaint]) -> tuple[list[vec[i64]], list[vec[float]]]:
    """The complaints' fields as typed columns, in one pass, for the records: ``INT_FIELDS``
    (``level``: of the unit it is at, or was closed at) and ``FLOAT_FIELDS``."""
    n: i64 = len(cs)
    ints = [vec[i64](capacity=n) for _ in INT_FIELDS]
    cid, grid, outcome, level, entry, handoffs, bounces, contacts, reopens = ints
    closed, wait, lead = (vec[float](capacity=n) for _ in FLOAT_FIELDS)
    for c in cs:
        cid, grid, outcome = append(cid, c.id), append(grid, c.grid), append(outcome, c.outcome)
        level, entry = append(level, c.at.level.index), append(entry, c.entry.level.index)
        handoffs, bounces = append(handoffs, c.handoffs), append(bounces, c.bounces)
        contacts, reopens = append(contacts, c.contacts), append(reopens, c.reopens)
        closed, wait, lead = append(closed, c.closed_day), append(wait, c.wait), append(lead, c.lead)
    return ([cid, grid, outcome, level, entry, handoffs, bounces, contacts, reopens], [closed, wait, lead])
