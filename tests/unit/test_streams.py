"""Named random streams: one per purpose and replication, reproducible, never shared."""

from __future__ import annotations

import itertools

import numpy as np
from kit import small_shibei, tiny

from sim.arrivals import draw_pushdown
from sim.district import build_district
from sim.model import World
from sim.streams import ARRIVAL_PURPOSES, REPLICATION_PURPOSES, district_streams, replication_streams


def first(rng: np.random.Generator) -> list[float]:
    return rng.random(4).tolist()


def test_same_seed_and_replication_same_numbers():
    for purpose in REPLICATION_PURPOSES:
        assert first(replication_streams(5, 2)[purpose]) == first(replication_streams(5, 2)[purpose])


def test_every_purpose_replication_and_seed_has_its_own_stream():
    draws = [first(replication_streams(seed, r)[p])[0]
             for seed, r, p in itertools.product((5, 6), (0, 1), REPLICATION_PURPOSES)]
    arrivals = replication_streams(5, 0).child("arrivals", ARRIVAL_PURPOSES)
    draws += [first(arrivals[p])[0] for p in ARRIVAL_PURPOSES]
    draws += [first(district_streams(5)[p])[0] for p in ("population", "branches")]
    assert len(set(draws)) == len(draws)


def test_pushdown_work_does_not_reuse_the_task_times_numbers():
    """Task times and task work are two purposes: with work uniform on [0, horizon], the work
    values must not be the task times over again."""
    s = small_shibei("2019-legacy", **{
        "process.pushdown.work": {"dist": "uniform", "low": 0, "high": 200}})
    w = World(s, build_district(s), replication_streams(s.seed, 0))
    again = replication_streams(s.seed, 0)["pushdown"]           # the world's task times, drawn again
    times = set(np.round(draw_pushdown(s, build_district(s), again)[0], 9))
    work = np.round([w.intake.work() for _ in range(len(times))], 9)
    assert len(times) > 1000
    assert np.isin(work, list(times)).mean() < 0.01


def test_streams_are_handed_to_the_world_not_global():
    """Seeding numpy's global generator changes nothing in a run."""
    s = tiny(arrivals={"per_1000_residents_per_day": 20},
             levels={"grid": {"staff": 1, "handle": {"dist": "exponential", "mean": 0.1},
                              "resolve": {"dist": "exponential", "mean": 0.5}}})
    runs = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        w = World(s, build_district(s), replication_streams(s.seed, 0), record_events=True)
        w.run()
        runs.append(w.events)
    assert len(runs[0]) > 100 and runs[0] == runs[1]


def test_the_same_streams_give_the_same_complaints_every_time():
    """Handing one Streams object to two worlds (say legacy and whistle) gives both the same
    complaints: asking for a child stream twice must not spawn a new one."""
    legacy, whistle = small_shibei("2019-legacy"), small_shibei("2020-whistle")
    streams = replication_streams(legacy.seed, 0)
    a = World(legacy, build_district(legacy), streams).intake
    b = World(whistle, build_district(whistle), streams).intake
    assert a.drawn > 1000
    for column in ("day", "grid", "category", "needs", "unclear", "department"):
        assert getattr(a, column) == getattr(b, column), column
