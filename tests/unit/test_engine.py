"""The event loop (sim/engine.py): the model's steps on SimPy's own queue, so a researcher's
SimPy process runs beside them in SimPy's order, and a failure in it crashes the run as it
would under ``Environment.run``."""

from __future__ import annotations

import pytest
import simpy
from hypothesis import given
from hypothesis import strategies as st
from kit import stream, tiny, world

from sim.engine import Clock, Step


class Mark(Step):
    """A step that notes its name and the day it fired."""

    def __init__(self, clock: Clock, seen: list[tuple[str, float]], name: str) -> None:
        self.clock, self.seen, self.name = clock, seen, name

    def fire(self) -> None:
        self.seen.append((self.name, self.clock.now))


def test_steps_and_simpy_events_interleave_in_simpy_order():
    """Same time: the order they were scheduled in, whichever kind; until: exclusive, as
    ``env.run(until=...)`` (a step due exactly at the stop stays queued)."""
    clock, seen = Clock(), []
    env = clock.env
    clock.at(1.0, Mark(clock, seen, "step a"))
    env.timeout(1.0).callbacks.append(lambda _: seen.append(("timeout", env.now)))
    clock.at(1.0, Mark(clock, seen, "step b"))
    clock.at(0.5, Mark(clock, seen, "step early"))
    clock.at(2.0, Mark(clock, seen, "at the stop"))
    clock.run(2.0)
    assert seen == [("step early", 0.5), ("step a", 1.0), ("timeout", 1.0), ("step b", 1.0)]
    assert env.now == clock.now == 2.0
    with pytest.raises(ValueError, match="until"):
        clock.run(1.0)


def test_a_researchers_process_raises_complaints_during_the_run():
    """A SimPy process added to ``world.env`` runs in the replication's time: its complaints
    arrive on its days, follow the drawn stream's ids, and go through the model."""
    w = world(tiny(), stream({"day": 1.0}))

    def campaign(env: simpy.Environment):
        for _ in range(3):
            yield env.timeout(10.0)
            w.report(grid=0, needs=0)

    w.env.process(campaign(w.env))
    rec = w.run()
    assert rec.complaints["complaint_id"].tolist() == [0, 1, 2, 3]
    assert rec.complaints["arrival_day"].tolist() == pytest.approx([1.0, 10.0, 20.0, 30.0])
    assert (rec.complaints["outcome"] == 0).all()          # all resolved at the grid


def test_a_failing_process_crashes_the_run():
    w = world(tiny(), stream({"day": 1.0}))

    def broken(env: simpy.Environment):
        yield env.timeout(5.0)
        raise RuntimeError("the researcher's bug")

    w.env.process(broken(w.env))
    with pytest.raises(RuntimeError, match="the researcher's bug"):
        w.run()


def test_a_finished_world_lets_its_complaints_and_lists_go():
    """The world is a cycle (its parts call back into it): after ``run`` it must hold no
    complaint, queued step or per-complaint list, or every later garbage collection walks
    them until one frees the cycle. Its counts stay."""
    w = world(tiny(), stream({"day": 1.0}, {"day": 2.0}))
    rec = w.run()
    assert len(rec.complaints["complaint_id"]) == 2
    assert w.complaints == [] and w.clock.pending() == 0
    assert len(w.intake.day) == 0 and len(w.intake.needs) == 0 and w.draws.drawn() == 0
    assert w.intake.drawn == 2


def test_simpy_events_made_inside_a_step_start_from_the_steps_time():
    """A researcher's step that makes a SimPy timeout: SimPy counts its delay from the step's
    time (the loop sets SimPy's own time only when SimPy schedules something)."""
    clock, seen = Clock(), []
    env = clock.env
    assert isinstance(env, simpy.Environment)          # SimPy's, whichever engine runs

    class Later(Step):
        def fire(self) -> None:
            seen.append(("step", env.now))
            env.timeout(0.5).callbacks.append(lambda _: seen.append(("timeout", env.now)))

    env.timeout(0.25).callbacks.append(lambda _: seen.append(("early", env.now)))
    clock.at(1.5, Later())
    clock.at(1.75, Mark(clock, seen, "between"))
    clock.run(3.0)
    assert seen == [("early", 0.25), ("step", 1.5), ("between", 1.75), ("timeout", 2.0)]
    assert env.now == 3.0


@given(st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.5]), max_size=4), max_size=40))
def test_the_clocks_heap_orders_steps_as_simpys_queue_would(batches):
    """Steps scheduled in batches (each batch from inside a step, so some are added while the
    heap is half empty), with many ties: they fire in SimPy's order, by time and then by the
    order they were scheduled in."""
    clock, seen, expected = Clock(), [], []

    class Spawn(Step):
        def __init__(self, name: int, delays: list[float]) -> None:
            self.name, self.delays = name, delays

        def fire(self) -> None:
            seen.append(self.name)
            for delay in self.delays:
                schedule(delay, [])

    def schedule(delay: float, delays: list[float]) -> None:
        name = len(expected)
        expected.append((clock.now + delay, name))
        clock.at(delay, Spawn(name, delays))

    for batch in batches:
        schedule(1.0, batch)
    clock.run(100.0)
    assert seen == [name for _, name in sorted(expected)]


def test_the_clock_refuses_more_events_than_its_keys_can_order():
    """A step's key is its event id above its slot, in 63 bits: past the last id the clock
    says so instead of ordering steps wrongly."""
    from sim.engine import ID_MAX

    clock = Clock()
    clock.ids.next_id = ID_MAX
    clock.at(1.0, Step())                           # the last id still fits
    with pytest.raises(OverflowError, match="events in one run"):
        clock.at(1.0, Step())
