"""The leading group's meetings: an agenda that waits for the next meeting.

The district's leading group does not sit at a desk taking cases: it meets every week, takes
up to so many of the items waiting on its agenda, oldest first, and orders each one carried
out. The implementation takes its own time but does not occupy the group, so the next
meeting happens on schedule whatever is still being implemented.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import simpy

from sim.config import Leadership
from sim.units import Item, LevelStats


class LeadingGroup:
    """The agenda and the meeting schedule; ``take_up`` is the world's: True if the item
    took a place on the agenda (its resident had not given up)."""

    __slots__ = ("_env", "_every", "_limit", "_stats", "_warmup", "_take_up", "agenda")

    def __init__(self, env: simpy.Environment, spec: Leadership, stats: LevelStats, warmup: float,
                 take_up: Callable[[Item], bool]) -> None:
        assert spec.meeting_every_days is not None
        self._env, self._every, self._limit = env, spec.meeting_every_days, spec.items_per_meeting
        self._stats, self._warmup, self._take_up = stats, warmup, take_up
        self.agenda: deque[Item] = deque()

    def start(self) -> None:
        """Book the first meeting, ``meeting_every_days`` after the start."""
        self._env.timeout(self._every).callbacks.append(self._meet)

    def put(self, item: Item) -> None:
        self.agenda.append(item)

    def _meet(self, _: simpy.Event) -> None:
        """A meeting takes up the waiting items, oldest first, up to its agenda's length."""
        limit = self._limit or len(self.agenda)
        taken = 0
        while self.agenda and taken < limit:
            if self._take_up(self.agenda.popleft()):
                taken += 1
        if self._env.now >= self._warmup:
            self._stats.meetings += 1
            self._stats.taken += taken
        self._env.timeout(self._every).callbacks.append(self._meet)
