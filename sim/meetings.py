"""The leading group's meetings: an agenda that waits for the next meeting.

The district's leading group does not sit at a desk taking cases: it meets every week, takes
up to so many of the items waiting on its agenda, oldest first, and orders each one carried
out. The implementation takes its own time but does not occupy the group, so the next
meeting happens on schedule whatever is still being implemented.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from sim.config import Leadership
from sim.engine import Clock, Step
from sim.units import Item, LevelStats


class LeadingGroup:
    """The agenda and the meeting schedule; ``take_up`` is the world's: True if the item
    took a place on the agenda (its resident had not given up)."""

    __slots__ = ("_clock", "_every", "_limit", "_stats", "_warmup", "_take_up", "agenda", "_meeting")

    def __init__(self, clock: Clock, spec: Leadership, stats: LevelStats, warmup: float,
                 take_up: Callable[[Item], bool]) -> None:
        assert spec.meeting_every_days is not None
        self._clock, self._every, self._limit = clock, spec.meeting_every_days, spec.items_per_meeting
        self._stats, self._warmup, self._take_up = stats, warmup, take_up
        self.agenda: deque[Item] = deque()
        self._meeting = Meeting(self)               # one at a time: reused

    def start(self) -> None:
        """Book the first meeting, ``meeting_every_days`` after the start."""
        self._clock.at(self._every, self._meeting)

    def put(self, item: Item) -> None:
        self.agenda.append(item)

    def _meet(self) -> None:
        """A meeting takes up the waiting items, oldest first, up to its agenda's length."""
        limit = self._limit or len(self.agenda)
        taken = 0
        while self.agenda and taken < limit:
            if self._take_up(self.agenda.popleft()):
                taken += 1
        if self._clock.now >= self._warmup:
            self._stats.meetings += 1
            self._stats.taken += taken
        self._clock.at(self._every, self._meeting)


class Meeting(Step):
    """The leading group meets (``LeadingGroup._meet``)."""

    __slots__ = ("group",)

    def __init__(self, group: LeadingGroup) -> None:
        self.group = group

    def fire(self) -> None:
        self.group._meet()
