"""SimPy's environment on the clock's time (``sim.engine.Clock.env``).

A plain Python module, not compiled with the event loop (sim/native.py): a compiled class
cannot be relied on to keep a base class from a library the compiler may not see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy
from simpy.events import NORMAL, EventPriority

if TYPE_CHECKING:
    from sim.engine import Clock


class Environment(simpy.Environment):
    """SimPy's environment, on the clock's time: ``now`` is the clock's, and SimPy's own
    ``_now`` is brought up to it whenever SimPy schedules an event (a researcher's timeout
    made inside a step), the one place SimPy reads it. So the loop sets the time once per
    step, on the clock, and SimPy still sees the time every step left behind."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock

    @property
    def now(self) -> float:
        return self._clock.now

    def schedule(self, event: simpy.Event, priority: EventPriority = NORMAL, delay: float = 0) -> None:
        self._now = self._clock.now
        super().schedule(event, priority, delay)
