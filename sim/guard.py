"""Before a run starts: will it fit on this machine, in memory and in a day?

A typo such as ``grids: 10000000`` or ``--replications 1000000000`` is a valid scenario that
would run for years or die of MemoryError after filling the swap. So the commands estimate
the events and memory a run needs from the scenario alone (rates times horizon, as a
back-of-the-envelope planner would) and refuse, with the estimate, beyond what this machine
can do; ``--force`` runs it anyway. The constants come from docs/performance.md: a Shibei
replication (250,512 complaints, 286,917 push-down tasks, 1.6 million events) takes about
5.8 s and 336 MiB, 556 MiB with its event log.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from sim.config import Scenario, ScenarioError

SECONDS_PER_EVENT = 3.5e-6      # 5.75 s / 1.62 million events (docs/performance.md, Shibei legacy)
BASE_BYTES = 150e6              # an empty replication: the interpreter, numpy, pandas, simpy
BYTES_PER_COMPLAINT = 700.0     # (336 MiB - base) / 250,512 complaints, records and frame
BYTES_PER_TASK = 50.0           # a push-down task keeps only its staff time
BYTES_PER_EVENT = 140.0         # (556 - 336) MiB / 1.62 million events, with --events
MAX_SECONDS = 24 * 3600.0       # a run longer than a day is a typo until the user says otherwise
MEMORY_SHARE = 0.8              # of this machine's memory, for the replications in flight


@dataclass(frozen=True)
class Estimate:
    """What a run will take: scheduled events, wall seconds and peak memory (bytes)."""

    events: float
    seconds: float
    memory: float

    def describe(self) -> str:
        return (f"about {self.events:.2g} events ({_duration(self.seconds)}) and "
                f"{self.memory / 2**30:.3g} GiB of memory")


def replication_events(s: Scenario) -> tuple[float, float]:
    """Scheduled events and peak bytes of one replication, without its event log."""
    days = s.horizon_days
    base = s.arrivals.per_1000_residents_per_day * s.district.population / 1000
    surge = sum(base * (x.multiplier - 1) * min(x.days, days) for x in s.arrivals.surges if x.multiplier > 1)
    complaints = base * days + surge                # the weekly profile is mean-normalised
    p = s.process
    visits = len(p.route) + (2 * p.bounce.max_rounds * p.bounce.probability if p.bounce.allowed else 0)
    follow = s.residents.follow_up_every_days
    follow_ups = 0.0 if follow is None else min(days, _open_days(s, visits)) / follow
    per_complaint = 1 + 2 * visits + 2 * follow_ups + 2 * p.duplicate_contacts
    tasks = s.district.communities * p.pushdown.tasks_per_community_per_day * days
    lead = s.levels.leadership
    meetings = days / lead.meeting_every_days if lead.meeting_every_days else 0.0
    events = complaints * per_complaint + 2 * tasks + meetings
    memory = (BASE_BYTES + complaints * (BYTES_PER_COMPLAINT + 8 * follow_ups) + tasks * BYTES_PER_TASK
              + s.district.grids * 200.0 + math.ceil(days) * len(s.categories) * 16.0)
    return events, memory


def _open_days(s: Scenario, visits: float) -> float:
    """How long a complaint stays open, roughly: every step's work and delay on its route,
    cut by the resident's patience."""
    steps = [getattr(s.levels, level) for level in s.process.route]
    work = sum(_mean(x.resolve) + (_mean(x.handle) if x.handle is not None else 0.0) for x in steps)
    per_visit = work / len(steps) + _mean(s.process.escalation_delay)
    patience = math.inf if s.residents.patience is None else _mean(s.residents.patience)
    return min(patience, per_visit * visits)


def _mean(spec: object) -> float:
    from sim.distributions import mean_of

    return float(mean_of(spec))  # type: ignore[arg-type]


def estimate(scenarios: Sequence[Scenario], replications: int | None, jobs: int | None,
             events_log: bool = False) -> Estimate:
    """The whole command: every scenario's replications, spread over ``jobs`` workers."""
    total = seconds = memory = 0.0
    for s in scenarios:
        reps = s.replications if replications is None else replications
        events, peak = replication_events(s)
        if events_log:
            peak += events * BYTES_PER_EVENT
        workers = max(1, min(jobs or os.cpu_count() or 1, reps))
        total += events * reps
        seconds += events * reps * SECONDS_PER_EVENT / workers
        memory = max(memory, peak * workers)
    return Estimate(total, seconds, memory)


def machine_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 * 2.0**30


def check(scenarios: Sequence[Scenario], replications: int | None, jobs: int | None,
          events_log: bool = False, force: bool = False, source: str = "") -> Estimate:
    """The estimate, or one line refusing a run beyond this machine (unless ``force``)."""
    found = estimate(scenarios, replications, jobs, events_log)
    memory = machine_memory() * MEMORY_SHARE
    if not force and (found.seconds > MAX_SECONDS or found.memory > memory):
        raise ScenarioError(source or scenarios[0].name, "", f"the run needs {found.describe()} "
                            f"(expected at most {_duration(MAX_SECONDS)} and {memory / 2**30:.3g} GiB "
                            "on this machine: fewer replications, a smaller district or a shorter "
                            "horizon; --force runs it anyway)")
    return found


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.2g} minutes"
    if seconds < 86400 * 3:
        return f"{seconds / 3600:.3g} hours"
    return f"{seconds / 86400:.3g} days"
