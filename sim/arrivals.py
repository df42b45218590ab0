"""The stream of complaints, drawn whole before the run starts.

Residents of each grid raise problems as a Poisson process with a rate proportional to the
grid's population, shaped by a weekly profile, a gamma-distributed daily multiplier
(over-dispersion: some days are far busier than others) and surges of given categories. The
superposition of the grids' processes is one Poisson process whose grid is drawn by
population, so the whole stream is drawn with a few vectorised calls, each attribute from a
stream of its own. Whatever the process does with the complaints, two scenarios with the same
district, arrivals and seed see exactly the same residents with exactly the same problems.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from librt.vecs import append, vec
from mypy_extensions import i64

from sim.config import LEVELS, LevelName, Scenario
from sim.distributions import Sampler, vector_draw
from sim.district import District
from sim.engine import Clock, Step
from sim.streams import Streams
from sim.units import Complaint, floats, ints

if TYPE_CHECKING:
    from sim.model import World


@dataclass(frozen=True)
class ComplaintStream:
    """Column arrays, one entry per complaint, in order of arrival."""

    day: np.ndarray         # arrival time (days)
    grid: np.ndarray
    category: np.ndarray    # index into scenario.categories
    needs: np.ndarray       # index into LEVELS: the lowest level able to resolve it
    unclear: np.ndarray     # jurisdiction disputed (bool)
    department: np.ndarray  # owning department
    patience: np.ndarray    # days the resident waits before giving up (inf = never)
    duplicates: np.ndarray  # extra contacts at entry from overlapping grid systems

    def __len__(self) -> int:
        return len(self.day)


def daily_category_rates(scenario: Scenario, district: District, rng: np.random.Generator) -> np.ndarray:
    """Expected complaints per day (rows) and category (columns)."""
    a = scenario.arrivals
    days = math.ceil(scenario.horizon_days)
    base = a.per_1000_residents_per_day * district.population.sum() / 1000
    profile = np.asarray(a.weekly_profile) / np.mean(a.weekly_profile)
    day_factor = profile[np.arange(days) % 7]
    if a.overdispersion > 0:
        k = 1 / a.overdispersion**2
        day_factor = day_factor * rng.gamma(k, 1 / k, days)
    weights = np.array([c.weight for c in scenario.categories], dtype=float)
    rates = base * np.outer(day_factor, weights / weights.sum())
    names = [c.name for c in scenario.categories]
    for surge in a.surges:
        first, last = int(math.floor(surge.start_day)), int(math.ceil(surge.start_day + surge.days))
        cols = [names.index(n) for n in surge.categories] if surge.categories else slice(None)
        block = rates[first:min(last, days)]
        block[:, cols] *= surge.multiplier
    return rates


def draw_complaints(scenario: Scenario, district: District, s: Streams) -> ComplaintStream:
    """All complaints of one replication, each attribute from its own stream in ``s``."""
    rates = daily_category_rates(scenario, district, s["overdispersion"])
    per_day = rates.sum(axis=1)
    counts = s["counts"].poisson(per_day)
    n = int(counts.sum())
    day_index = np.repeat(np.arange(len(per_day)), counts)
    day = day_index + s["times"].random(n)
    order = np.argsort(day, kind="stable")
    day, day_index = day[order], day_index[order]
    keep = day < scenario.horizon_days
    day, day_index = day[keep], day_index[keep]
    n = len(day)

    cat_cum = np.cumsum(rates, axis=1) / per_day[:, None].clip(min=1e-300)
    u = s["category"].random(n)
    category = np.minimum((u[:, None] > cat_cum[day_index]).sum(axis=1), len(scenario.categories) - 1)
    grid_cum = np.cumsum(district.population) / district.population.sum()
    grid = np.minimum(np.searchsorted(grid_cum, s["grid"].random(n), side="right"), district.grids - 1)

    levels = [cast(LevelName, lv) for lv in LEVELS]
    needs_cum = np.array([[sum(c.needs.get(lv, 0.0) for lv in levels[: i + 1]) for i in range(len(LEVELS))]
                          for c in scenario.categories])
    u = s["needs"].random(n)
    needs = np.minimum((u[:, None] > needs_cum[category]).sum(axis=1), len(LEVELS) - 1)
    unclear_p = np.array([c.unclear for c in scenario.categories])
    unclear = s["unclear"].random(n) < unclear_p[category]
    owner = np.array([-1 if c.department is None else c.department for c in scenario.categories])
    spread = np.minimum((s["department"].random(n) * district.departments).astype(np.int64),
                        district.departments - 1)
    department = np.where(owner[category] >= 0, owner[category], spread)
    patience_spec = scenario.residents.patience
    patience = (np.full(n, np.inf) if patience_spec is None
                else vector_draw(patience_spec)(s["patience"], n))
    duplicates = s["duplicates"].poisson(scenario.process.duplicate_contacts, n)
    return ComplaintStream(day, grid, category, needs, unclear, department, patience, duplicates)


def draw_pushdown(scenario: Scenario, district: District,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times and communities of the departments' push-down tasks."""
    rate = scenario.process.pushdown.tasks_per_community_per_day * district.communities
    n = int(rng.poisson(rate * scenario.horizon_days)) if rate > 0 else 0
    day = np.sort(rng.random(n) * scenario.horizon_days)
    community = np.minimum((rng.random(n) * district.communities).astype(np.int64), district.communities - 1)
    return day, community


class Intake:
    """The drawn streams fed into a run in order: each complaint at its arrival day, each
    push-down task at its day, one scheduled event at a time (the next one due).

    It also keeps the facts of every complaint of the run that do not change while it runs
    (arrival day, grid, category, needs, unclear, department), as typed arrays indexed by
    complaint id: the complaint object carries only what the run changes."""

    __slots__ = ("day", "grid", "category", "needs", "unclear", "department", "_at_arrival", "_drawn",
                 "_tasks", "work", "next_arrival", "_next_task", "_clock",
                 "_arrival_step", "_task_step")

    def __init__(self, stream: ComplaintStream, tasks: tuple[np.ndarray, np.ndarray],
                 work: Sampler) -> None:
        # typed arrays (librt.vecs): compiled, reading one is an index into C numbers, where a
        # numpy array is a call per item and a list a boxed float per day
        self.day: vec[float] = floats(stream.day)
        self.grid: vec[i64] = ints(stream.grid)
        self.category: vec[i64] = ints(stream.category)
        self.needs: vec[i64] = ints(stream.needs)
        self.unclear: vec[bool] = vec[bool](stream.unclear.tolist())
        self.department: vec[i64] = ints(stream.department)
        # the resident's patience and extra contacts, read once when the complaint arrives
        self._at_arrival: tuple[vec[float], vec[i64]] = (floats(stream.patience), ints(stream.duplicates))
        self._drawn: tuple[int, int] = (len(self.day), len(tasks[0]))   # complaints, tasks
        self._tasks: tuple[vec[float], vec[i64]] = (floats(tasks[0]), ints(tasks[1]))
        self.work = work                   # a push-down task's staff time
        self.next_arrival = self._next_task = 0

    def start(self, clock: Clock, world: World) -> None:
        """Book the first arrival and the first task, for ``world`` (its ``_enter(complaint,
        duplicates)`` and ``_push_down(community)``: direct calls, compiled)."""
        self._clock = clock
        self._arrival_step, self._task_step = Arrival(self, world), Task(self, world)  # one of each at a time
        if self._drawn[0]:
            clock.at(self.day[0], self._arrival_step)
        if len(self._tasks[0]) > 0:
            clock.at(self._tasks[0][0], self._task_step)

    def let_go(self) -> None:
        """Empty the per-complaint and per-task arrays (a finished run's; counts are kept)."""
        self.day, self.grid, self.category = vec[float](), vec[i64](), vec[i64]()
        self.needs, self.unclear, self.department = vec[i64](), vec[bool](), vec[i64]()
        self._at_arrival, self._tasks = (vec[float](), vec[i64]()), (vec[float](), vec[i64]())

    @property
    def tasks(self) -> int:
        """How many push-down tasks the run was given."""
        return self._drawn[1]

    @property
    def drawn(self) -> int:
        """How many complaints the drawn stream holds (raised ones come after)."""
        return self._drawn[0]

    def add(self, day: float, grid: int, category: int, needs: int, unclear: bool,
            department: int, patience: float) -> Complaint:
        """A complaint raised during the run, beside the drawn stream; its id follows the
        stream's and every complaint raised before it."""
        cid = len(self.day)
        self.day, self.grid, self.category = append(self.day, day), append(self.grid, grid), append(
            self.category, category)
        self.needs, self.unclear = append(self.needs, needs), append(self.unclear, unclear)
        self.department = append(self.department, department)
        return Complaint(cid, grid, day + patience)

    def _arrival(self, world: World) -> None:
        i, now = self.next_arrival, self._clock.now
        self.day[i] = now                  # the clock's own sum, as every later step sees it
        patience, duplicates = self._at_arrival
        world._enter(Complaint(i, self.grid[i], now + patience[i]), duplicates[i])
        self.next_arrival = i = i + 1
        if i < self._drawn[0]:
            self._clock.at(self.day[i] - now, self._arrival_step)

    def _task(self, world: World) -> None:
        i = self._next_task
        day, community = self._tasks
        world._push_down(community[i])
        self._next_task = i = i + 1
        if i < len(day):
            self._clock.at(max(day[i] - self._clock.now, 0.0), self._task_step)


class Arrival(Step):
    """The next complaint of the stream arrives (``Intake._arrival``)."""

    __slots__ = ("intake", "world")

    def __init__(self, intake: Intake, world: World) -> None:
        self.intake, self.world = intake, world

    def fire(self) -> None:
        self.intake._arrival(self.world)


class Task(Step):
    """The next push-down task arrives (``Intake._task``)."""

    __slots__ = ("intake", "world")

    def __init__(self, intake: Intake, world: World) -> None:
        self.intake, self.world = intake, world

    def fire(self) -> None:
        self.intake._task(self.world)
