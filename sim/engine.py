"""The event loop of a replication: the model's own steps on SimPy's queue.

A complaint's life is a chain of steps: an office's staff member finishes a piece of work, a
fix's lead time ends, a problem arrives at the next office. Each is a small ``Step`` object
scheduled on the SimPy environment's own queue, in SimPy's own order (time, priority, event
id from the environment's counter), so the model's steps and any SimPy process a researcher
adds to ``world.env`` interleave exactly as if every step were a ``simpy.Timeout`` with a
callback. ``Clock.run`` pops that queue as ``Environment.run(until=...)`` would, calls a
step's ``fire()`` directly and hands every other event to its callbacks as SimPy does.

What this saves over a ``Timeout`` per step is SimPy's per-event Python: the event object,
its callback list, the value tuple, ``Environment.step``. With the hot modules compiled
(mypyc, see docs/performance.md) the loop and every step are C; uncompiled, the same source
runs as plain Python and gives the same tables.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush
from typing import Final

import simpy
from mypy_extensions import mypyc_attr
from simpy.events import NORMAL as SIMPY_NORMAL
from simpy.events import URGENT

NORMAL: Final = 1
"""SimPy's priority of a timeout (``simpy.events.NORMAL``), as a plain int."""
assert NORMAL == SIMPY_NORMAL

AFTER_RUN: Final[list[Callable[[Clock], None]]] = []
"""Called with the clock when each ``Clock.run`` returns, the world still whole: for the
benchmarks (the loop's CPU seconds, memory at its end); empty otherwise."""


@mypyc_attr(allow_interpreted_subclasses=True)
class Step:
    """One scheduled step of the model; ``fire()`` does it when its time comes. Subclass it
    for a step of your own (``world.clock.at(delay, step)``), or use a SimPy process."""

    def fire(self) -> None:
        raise NotImplementedError


class Clock:
    """The replication's time and queue: SimPy's environment, read and written directly.

    ``now`` is the current day (the same as ``env.now``); ``at(delay, step)`` schedules a step
    ``delay`` days from now as ``env.schedule`` would schedule a timeout."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.now: float = float(env.now)
        self._queue: list[tuple[float, int, int, object]] = env._queue  # type: ignore[assignment]
        self._eid: Iterator[int] = env._eid
        self.loop_seconds = 0.0             # CPU seconds of the last ``run``

    def at(self, delay: float, step: Step) -> None:
        """Schedule ``step`` at ``now + delay`` (with SimPy's normal priority)."""
        heappush(self._queue, (self.now + delay, NORMAL, next(self._eid), step))

    def run(self, until: float) -> None:
        """Process every event before day ``until``, as ``env.run(until=until)`` does: the
        stop is an urgent event at ``until``, so steps due exactly then are left queued."""
        env = self.env
        if until <= self.now:
            raise ValueError(f"until ({until}) must be greater than the current simulation time")
        stop = simpy.Event(env)
        stop._ok = True
        stop._value = None
        env.schedule(stop, URGENT, until - self.now)
        started = time.process_time()
        try:
            self._loop(stop)
        finally:
            self.loop_seconds = time.process_time() - started
            for hook in AFTER_RUN:
                hook(self)

    def _loop(self, stop: simpy.Event) -> None:
        env, queue = self.env, self._queue
        while queue:
            when, _, _, event = heappop(queue)
            self.now = when
            env._now = when
            if isinstance(event, Step):
                event.fire()
            elif event is stop:
                return
            else:
                _process(event)
        raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {stop}')


def _process(event: object) -> None:
    """A SimPy event of someone else's (a researcher's process): its callbacks, and a failed
    event that nobody defused crashes the run, as in ``Environment.step``."""
    assert isinstance(event, simpy.Event)
    callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
    for callback in callbacks:
        callback(event)
    if not event._ok and not hasattr(event, "_defused"):
        value = event._value
        exc = type(value)(*value.args)
        exc.__cause__ = value
        raise exc


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for the event loop and the records. The loop makes
    no reference cycles, but it allocates millions of objects, and every few hundred
    allocations the collector would rescan the run's growing records: a fifth of a
    replication's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
