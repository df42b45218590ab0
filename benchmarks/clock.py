"""What every benchmark program says about itself: its time and memory inside Python.

A benchmark child starts a ``Clock`` after its imports and ends with ``clock.report(...)``,
one JSON line on stdout that ``bench.py`` reads. Besides the wall seconds it reports CPU
seconds (``time.process_time``: this process only, so a busy neighbour on a shared machine
slows it much less than the wall clock), the peak resident memory before the work began and
at the end (``ru_maxrss``), so a report can give memory per complaint net of the interpreter
and its imports.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


def peak_rss_mib() -> float:
    """This process's peak resident set so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


class Clock:
    """Wall and CPU seconds since it was made, and the memory high-water marks."""

    def __init__(self) -> None:
        self.rss_start_mib = peak_rss_mib()
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def fields(self) -> dict[str, float]:
        return {"seconds": round(time.perf_counter() - self.wall, 4),
                "cpu_seconds": round(time.process_time() - self.cpu, 4),
                "rss_start_mib": round(self.rss_start_mib, 1), "rss_peak_mib": round(peak_rss_mib(), 1)}

    def report(self, **values: Any) -> None:
        """Print the child's one JSON line: what it counted, then its time and memory."""
        emit({**values, **self.fields()})


def emit(result: dict[str, Any], notes: Iterable[str] = ()) -> None:
    """A child's output: notes for a reader on stderr, then its one JSON line on stdout."""
    for note in notes:
        print(note, file=sys.stderr)
    print(json.dumps(result))


@contextmanager
def around_event_loop(after: Callable[[Any, float], None]) -> Iterator[None]:
    """Call ``after(clock, cpu_seconds)`` when each replication's event loop returns, while the
    world that ran it is still whole (its queues, complaints and records alive): the only way
    to time the event loop alone, or look at memory at its end, without touching the model.
    The loop is ``sim.engine.Clock.run``, which calls the hooks of ``sim.engine.AFTER_RUN``."""
    from sim import engine  # here, so that the Ciw child does not pay for it

    def hook(clock: Any) -> None:
        after(clock, clock.loop_seconds)

    engine.AFTER_RUN.append(hook)
    try:
        yield
    finally:
        engine.AFTER_RUN.remove(hook)


def events_processed(clock: Any) -> int:
    """Events a replication's clock (``sim.engine.Clock``) has processed: every event
    scheduled (each gets an id) less those still waiting, its steps and SimPy's events."""
    return int(clock.processed())
