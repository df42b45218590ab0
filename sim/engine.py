"""The event loop of a replication: the model's own steps beside SimPy's queue, in SimPy's order.

A complaint's life is a chain of steps: an office's staff member finishes a piece of work, a
fix's lead time ends, a problem arrives at the next office. Each is a small ``Step`` object
that the clock keeps in a heap of its own, keyed as SimPy keys a timeout (time, normal
priority, event id from the environment's own counter, which the clock shares), so the
model's steps and any SimPy process a researcher adds to ``world.env`` interleave exactly as
if every step were a ``simpy.Timeout`` with a callback on SimPy's one queue. ``Clock.run``
takes whichever of the two heads comes first, calls a step's ``fire()`` directly and hands
every other event to its callbacks as ``Environment.run(until=...)`` does.

What this saves over a ``Timeout`` per step is SimPy's per-event Python (the event object,
its callback list, the value tuple, ``Environment.step``) and its heap of Python tuples,
compared item by item by Python: the clock's heap is typed arrays (``librt.vecs``) of C
doubles and integers. With the hot modules compiled (mypyc, see docs/performance.md) the
loop and every step are C; uncompiled, the same source runs as plain Python and gives the
same tables."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from heapq import heappop
from typing import Final

import simpy
from librt.vecs import append, pop, vec
from mypy_extensions import i64, mypyc_attr
from simpy.events import NORMAL as SIMPY_NORMAL
from simpy.events import URGENT

from sim.environment import Environment

NORMAL: Final = 1
"""SimPy's priority of a timeout (``simpy.events.NORMAL``), as a plain int."""
assert NORMAL == SIMPY_NORMAL

SLOT_BITS: Final = 24
SLOT_MASK: Final = (1 << SLOT_BITS) - 1          # steps pending at once, at most
ID_MAX: Final = (1 << (63 - SLOT_BITS)) - 1      # event ids of one run: a key is the id above the slot

AFTER_RUN: Final[list[Callable[[Clock], None]]] = []
"""Called with the clock when each ``Clock.run`` returns, the world still whole: for the
benchmarks (the loop's CPU seconds, memory at its end); empty otherwise."""


@mypyc_attr(allow_interpreted_subclasses=True)
class Step:
    """One scheduled step of the model; ``fire()`` does it when its time comes. Subclass it
    for a step of your own (``world.clock.at(delay, step)``), or use a SimPy process."""

    def fire(self) -> None:
        raise NotImplementedError


class Ids:
    """The event ids of one environment, shared by SimPy and the clock: ``env._eid`` is
    replaced by this, so an id SimPy gives a timeout and an id the clock gives a step come
    from one counter, and together they order events exactly as SimPy's one queue would."""

    def __init__(self, start: i64) -> None:
        self.next_id: i64 = start

    def __iter__(self) -> Ids:
        return self

    def __next__(self) -> object:         # object: mypyc's iterator slot returns a Python object
        n = self.next_id
        self.next_id = n + 1
        return int(n)


class Clock:
    """The replication's time and queue, with a SimPy environment (``env``) beside it.

    ``now`` is the current day (the same as ``env.now``); ``at(delay, step)`` schedules a step
    ``delay`` days from now as ``env.schedule`` would schedule a timeout: the same time,
    SimPy's normal priority and the next id of the environment's counter. The steps wait in
    the clock's own binary heap, typed arrays of times and keys (id, slot) compared as C
    numbers; SimPy's events (a researcher's process, the stop at ``until``) in SimPy's.
    ``run`` takes the earlier head of the two by SimPy's (time, priority, id), so the order
    of everything is that of one SimPy queue."""

    def __init__(self) -> None:
        self.now: float = 0.0
        self.env = env = Environment(self)
        self.ids = Ids(next(env._eid))
        env._eid = self.ids                 # type: ignore[assignment]
        # A binary heap by (time, id) in typed arrays, so that sifting moves C numbers only: a
        # step's time, and its key, the event id above the slot of ``_steps`` where the step
        # waits (freed slots are reused), so keys order as ids do.
        self._times: vec[float] = vec[float]()
        self._keys: vec[i64] = vec[i64]()
        self._steps: list[Step | None] = []
        self._free: vec[i64] = vec[i64]()
        self.loop_seconds = 0.0             # CPU seconds of the last ``run``

    def at(self, delay: float, step: Step) -> None:
        """Schedule ``step`` at ``now + delay`` (with SimPy's normal priority)."""
        ids = self.ids
        eid = ids.next_id
        ids.next_id = eid + 1
        self._push(self.now + delay, eid, step)

    def pending(self) -> int:
        """Events scheduled and not processed yet: the clock's steps and SimPy's events."""
        return len(self._times) + len(self.env._queue)

    def processed(self) -> int:
        """Events processed so far (every event scheduled gets an id): for the benchmarks."""
        return int(self.ids.next_id) - self.pending()

    def _push(self, when: float, eid: i64, step: Step) -> None:
        if eid > ID_MAX:
            raise OverflowError(f"more than {ID_MAX + 1:,} events in one run: more than the clock can order")
        if len(self._free) > 0:
            self._free, slot = pop(self._free)
            self._steps[slot] = step
        else:
            slot = len(self._steps)
            if slot > SLOT_MASK:
                raise OverflowError(f"more than {SLOT_MASK + 1:,} steps pending at once: more than the "
                                    "clock can order")
            self._steps.append(step)
        key = (eid << SLOT_BITS) | slot
        times, keys = self._times, self._keys
        i: i64 = len(times)
        times = append(times, when)
        keys = append(keys, key)
        while i > 0:                        # sift up (heapq's _siftdown)
            parent = (i - 1) >> 1
            t = times[parent]
            if t < when or (t == when and keys[parent] < key):
                break
            times[i], keys[i] = t, keys[parent]
            i = parent
        times[i], keys[i] = when, key
        self._times, self._keys = times, keys

    def _pop(self) -> Step:
        """Take the earliest step off the heap (there is one)."""
        times, keys = self._times, self._keys
        first = keys[0] & SLOT_MASK
        times, when = pop(times)
        keys, key = pop(keys)
        n: i64 = len(times)
        if n > 0:                           # the last entry sifts down from the root
            i: i64 = 0
            child: i64 = 1
            while child < n:
                t, k = times[child], keys[child]
                right = child + 1
                if right < n:
                    r = times[right]
                    if r < t or (r == t and keys[right] < k):
                        child, t, k = right, r, keys[right]
                if when < t or (when == t and key < k):
                    break
                times[i], keys[i] = t, k
                i = child
                child = 2 * i + 1
            times[i], keys[i] = when, key
        self._times, self._keys = times, keys
        step = self._steps[first]
        self._steps[first] = None
        self._free = append(self._free, first)
        assert step is not None
        return step

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
        env = self.env
        queue: list[tuple[float, int, int, object]] = env._queue  # type: ignore[assignment]
        head: object = None                 # SimPy's earliest entry, and its key, read once
        when, priority, eid = 0.0, 0, 0
        while True:
            steps = len(self._times) > 0
            if queue:                       # SimPy's head first if it comes first
                if queue[0] is not head:
                    head = queue[0]
                    when, priority, eid, _ = queue[0]
                if (not steps or when < self._times[0] or (when == self._times[0] and (
                        priority < NORMAL or (priority == NORMAL and eid < self._keys[0] >> SLOT_BITS)))):
                    event = heappop(queue)[3]
                    head = None
                    self.now = when
                    env._now = when
                    if event is stop:
                        return
                    _process(event)
                    continue
            elif not steps:
                raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {stop}')
            at = self._times[0]
            step = self._pop()
            self.now = at                   # SimPy's own ``_now`` follows when it needs to
            step.fire()

    def clear(self) -> None:
        """Drop every step still queued (a finished replication's)."""
        self._times, self._keys, self._free = vec[float](), vec[i64](), vec[i64]()
        self._steps = []


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
