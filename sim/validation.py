"""The model against queueing theory: degenerate scenarios whose answers are known.

Strip the district down to one office with three officers, exponential repair times and
residents who never give up, and govsim must behave as an M/M/3 queue: Erlang C says how
often a complaint waits and for how long. Each case below is such a stripped-down scenario
with its closed-form answer from ``sim.queueing``. The runner simulates every case over
independent replications and puts each measure's mean, its confidence interval and the
theory side by side. A measure passes when the theory lies inside the interval; the
intervals are simultaneous (Bonferroni over the rows of the table), so a correct model
passes the whole table with probability at least ``FAMILY_CONFIDENCE``.

``govsim validate`` and ``tests/validation`` both call ``run_validation``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config import LEVELS, Scenario, validate
from sim.executors import die_with_parent
from sim.experiment import simulate
from sim.measures import little, measure
from sim.metrics import mean_ci
from sim.queueing import ErlangA, Node, Station, feedback_visits, jackson, periodic_wait, priority_waits

FAMILY_CONFIDENCE = 0.99
TABLE_COLUMNS = ("case", "measure", "simulated", "ci_low", "ci_high", "theory", "rel_error", "pass")
SEED = 20200116
LITTLE_TOLERANCE = 0.01
"""Little's law ratios may miss 1 by the edge effect, (mean wait)/(window): at most about
0.5% at the quick size (docs/validation.md); an accounting error of 5% still fails."""


@dataclass(frozen=True)
class Size:
    """How much to simulate: replications of ``horizon_days`` each; complaints arriving in the
    first ``warmup_days`` or the last ``cooldown_days`` are outside the measured cohort."""

    name: str
    replications: int
    horizon_days: float
    warmup_days: float = 200.0
    cooldown_days: float = 100.0


SIZES = {"quick": Size("quick", 12, 3000.0), "full": Size("full", 40, 6000.0)}


# --------------------------------------------------------------------------- scenarios
def expo(mean: float) -> dict[str, Any]:
    return {"dist": "exponential", "mean": mean}


def staffed(staff: int, handle: float, resolve: float | None = None) -> dict[str, Any]:
    """A level with exponential handling and resolving times (resolve defaults to handle)."""
    return {"staff": staff, "handle": expo(handle), "resolve": expo(handle if resolve is None else resolve)}


def degenerate(name: str, rate: float, route: Sequence[str], needs: str,
               levels: dict[str, Any], unclear: float = 0.0, patience: float | None = None,
               **process: Any) -> dict[str, Any]:
    """One grid, community, street and department; complaints at ``rate`` a day that all need
    ``needs``; no follow-ups, duplicates, push-down tasks, guides or delays unless given."""
    return {
        "name": name,
        "seed": SEED,
        "district": {"streets": 1, "communities": 1, "grids": 1, "population": 1000,
                     "population_cv": 0.0, "departments": 1},
        "arrivals": {"per_1000_residents_per_day": rate},
        "categories": [{"name": "any", "weight": 1.0, "needs": {needs: 1.0}, "unclear": unclear}],
        "levels": levels,
        "process": {"route": list(route), "grid_branches": int(route[0] == "grid"), "guides": 0,
                    "escalation_delay": {"dist": "fixed", "value": 0.0}, "duplicate_contacts": 0.0,
                    "pushdown": {"tasks_per_community_per_day": 0.0}, **process},
        "residents": {"patience": None if patience is None else expo(patience),
                      "follow_up_every_days": None},
    }


class Case:
    """A degenerate scenario and the closed-form values of some of its measures."""

    name: str
    checks_little = True            # compare the units' mean queue with the complaints' waits
    per_level_little = False        # ... also level by level (needs the event log)

    def raw(self) -> dict[str, Any]:
        raise NotImplementedError

    def theory(self) -> dict[str, float]:
        raise NotImplementedError

    def scenario(self, size: Size) -> Scenario:
        raw = {**self.raw(), "horizon_days": size.horizon_days, "warmup_days": size.warmup_days,
               "cooldown_days": size.cooldown_days, "replications": size.replications}
        return validate(raw, f"validation case {self.name}")


@dataclass(frozen=True)
class MMc(Case):
    """One department, ``servers`` staff, exponential resolve times: M/M/c (Erlang C). With a
    fixed ``lead`` after the work, which holds no one: the same queue, closing ``lead`` later."""

    rate: float
    service: float
    servers: int
    lead: float = 0.0

    @property
    def name(self) -> str:  # type: ignore[override]
        name = f"mmc-c{self.servers}-rho{round(100 * self.rate * self.service / self.servers)}"
        return f"{name}-lead{self.lead:g}" if self.lead else name

    def raw(self) -> dict[str, Any]:
        department = {**staffed(self.servers, self.service), "lead": {"dist": "fixed", "value": self.lead}}
        return degenerate(self.name, self.rate, ["department"], "department", {"department": department})

    def theory(self) -> dict[str, float]:
        s = Station(self.rate, self.service, self.servers)
        return {"wait_days_mean": s.wait, "p_wait": s.p_wait, "days_to_close_mean": s.sojourn + self.lead,
                "utilization_department": s.utilization}


@dataclass(frozen=True)
class BounceLoop(Case):
    """Street escalates, department bounces every complaint back with probability ``p``
    (all unclear, no delays): a Jackson network with feedback, ``1/(1-p)`` passes."""

    rate: float = 1.0
    p: float = 0.5
    street_staff: int = 2
    street_service: float = 0.5
    department_staff: int = 3
    department_service: float = 1.0     # handle = resolve: one service law, as Jackson needs
    name: str = "bounce-loop"
    per_level_little = True

    def raw(self) -> dict[str, Any]:
        bounce = {"allowed": True, "from": "department", "to": "street", "probability": self.p,
                  "max_rounds": 10_000, "delay": {"dist": "fixed", "value": 0.0}}
        levels = {"street": staffed(self.street_staff, self.street_service),
                  "department": staffed(self.department_staff, self.department_service)}
        return degenerate(self.name, self.rate, ["street", "department"], "department", levels,
                          unclear=1.0, bounce=bounce, top_resolves_all=False)

    def theory(self) -> dict[str, float]:
        visits = feedback_visits(self.p)
        net = jackson(self.rate, [Node(visits, self.street_service, self.street_staff),
                                  Node(visits, self.department_service, self.department_staff)])
        street, department = net.stations
        assert street is not None and department is not None
        return {"bounces_mean": visits - 1, "handoffs_mean": 2 * visits - 1,
                "wait_days_mean": net.wait, "days_to_close_mean": net.sojourn,
                "utilization_street": street.utilization,
                "utilization_department": department.utilization}


TANDEM_LEVELS = ("grid", "street", "department", "platform", "leadership")


@dataclass(frozen=True)
class Tandem(Case):
    """The whistle route, staff everywhere, exponential escalation delays: five M/M/c
    stations in series with four delays between them."""

    rate: float = 2.0
    staff: tuple[int, ...] = (1, 2, 3, 2, 2)
    service: tuple[float, ...] = (0.2, 0.5, 1.0, 0.4, 0.5)
    delay: float = 0.25
    name: str = "whistle-tandem"
    per_level_little = True

    def raw(self) -> dict[str, Any]:
        levels = {lv: staffed(c, s) for lv, c, s in zip(TANDEM_LEVELS, self.staff, self.service)}
        return degenerate(self.name, self.rate, TANDEM_LEVELS, "leadership", levels,
                          escalation_delay=expo(self.delay))

    def theory(self) -> dict[str, float]:
        nodes = [Node(1.0, s, c) for c, s in zip(self.staff, self.service)]
        net = jackson(self.rate, [*nodes, Node(len(nodes) - 1, self.delay, None)])
        return {"wait_days_mean": net.wait, "days_to_close_mean": net.sojourn,
                "handoffs_mean": float(len(nodes) - 1)}


@dataclass(frozen=True)
class Impatient(Case):
    """One department whose waiting residents give up after exponential patience: M/M/c+M
    (Erlang-A), here overloaded, which only abandonment keeps stable."""

    rate: float = 4.4
    service: float = 1.0
    servers: int = 4
    patience: float = 2.0
    name: str = "erlang-a"

    def raw(self) -> dict[str, Any]:
        return degenerate(self.name, self.rate, ["department"], "department",
                          {"department": staffed(self.servers, self.service)}, patience=self.patience)

    def theory(self) -> dict[str, float]:
        q = ErlangA(self.rate, self.service, self.servers, self.patience)
        return {"abandoned_share": q.abandon, "wait_days_mean": q.wait, "p_wait": q.p_wait}


@dataclass(frozen=True)
class Meetings(Case):
    """The leading group alone, meeting every ``period`` days and taking every waiting item."""

    rate: float = 2.0
    period: float = 7.0
    resolve: float = 3.0
    name: str = "meetings"

    def raw(self) -> dict[str, Any]:
        group = {"meeting_every_days": self.period, "items_per_meeting": None, "resolve": expo(self.resolve)}
        return degenerate(self.name, self.rate, ["leadership"], "leadership", {"leadership": group})

    def theory(self) -> dict[str, float]:
        wait = periodic_wait(self.period)
        return {"wait_days_mean": wait, "days_to_close_mean": wait + self.resolve}


@dataclass(frozen=True)
class PushDown(Case):
    """One community serving complaints and the departments' push-down tasks, both with the
    same exponential work: one M/M/c queue (``same``), or tasks first (``first``), where
    complaints wait as the low class of Cobham's priority formula."""

    priority: str = "same"
    rate: float = 1.5
    tasks: float = 1.5
    service: float = 1.0
    servers: int = 4
    checks_little = False           # tasks queue too, with no wait column of their own

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"pushdown-{self.priority}"

    def raw(self) -> dict[str, Any]:
        pushdown = {"tasks_per_community_per_day": self.tasks, "work": expo(self.service),
                    "priority": self.priority}
        return degenerate(self.name, self.rate, ["community"], "community",
                          {"community": staffed(self.servers, self.service)}, pushdown=pushdown)

    def theory(self) -> dict[str, float]:
        both = Station(self.rate + self.tasks, self.service, self.servers)
        if self.priority == "first":
            task_wait, wait = priority_waits([self.tasks, self.rate], self.service, self.servers)
        else:
            task_wait = wait = both.wait
        return {"wait_days_mean": wait, "p_wait": both.p_wait, "days_to_close_mean": wait + self.service,
                "pushdown_share_of_community_time": self.tasks * self.service / self.servers,
                "utilization_community": both.utilization,
                "mean_queue_community": self.tasks * task_wait + self.rate * wait}


@dataclass(frozen=True)
class MixedDistrict(Case):
    """No closed form: several units per level, lognormal times, bounces, guides, impatience
    and the leading group's meetings. Only Little's law is checked, level by level; follow-ups,
    duplicates and push-down tasks stay off because they queue without a wait column."""

    name: str = "little-mixed"
    per_level_little = True

    def raw(self) -> dict[str, Any]:
        def level(staff: int, handle: float, resolve: float) -> dict[str, Any]:
            return {"staff": staff, "handle": {"dist": "lognormal", "mean": handle, "cv": 1.0},
                    "resolve": {"dist": "lognormal", "mean": resolve, "cv": 1.0}}

        return {
            "name": self.name, "seed": SEED,
            "district": {"streets": 2, "communities": 4, "grids": 12, "population": 8000,
                         "population_cv": 0.3, "departments": 3},
            "arrivals": {"per_1000_residents_per_day": 0.8},
            "categories": [
                {"name": "local", "weight": 0.5, "needs": {"grid": 0.6, "community": 0.4}},
                {"name": "repair", "weight": 0.4, "unclear": 0.5,
                 "needs": {"street": 0.4, "department": 0.4, "leadership": 0.2}},
                {"name": "compound", "weight": 0.1, "unclear": 0.8, "department": 0,
                 "needs": {"department": 0.5, "platform": 0.5}}],
            "levels": {"grid": level(1, 0.05, 0.3), "community": level(1, 0.05, 0.5),
                       "street": level(2, 0.1, 0.5), "department": level(2, 0.1, 1.0),
                       "platform": level(1, 0.05, 1.0),
                       "leadership": {"meeting_every_days": 7.0, "items_per_meeting": 3,
                                      "resolve": {"dist": "lognormal", "mean": 5.0, "cv": 1.0}}},
            "process": {"route": list(LEVELS), "grid_branches": 8, "guides": 2,
                        "escalation_delay": {"dist": "lognormal", "mean": 0.5, "cv": 1.0},
                        "bounce": {"allowed": True, "probability": 0.4, "max_rounds": 3,
                                   "delay": expo(1.0)},
                        "duplicate_contacts": 0.0, "pushdown": {"tasks_per_community_per_day": 0.0}},
            "residents": {"patience": expo(20.0), "follow_up_every_days": None},
        }

    def theory(self) -> dict[str, float]:
        return {}


CASES: tuple[Case, ...] = (
    MMc(rate=0.5, service=1.0, servers=1),
    MMc(rate=4.2, service=0.5, servers=3),
    MMc(rate=7.2, service=1.0, servers=8),
    MMc(rate=4.2, service=0.5, servers=3, lead=2.0),
    BounceLoop(),
    Tandem(),
    Impatient(),
    Meetings(),
    PushDown("same"),
    PushDown("first"),
    MixedDistrict(),
)


def replicate(case: Case, size: Size, replication: int) -> dict[str, tuple[float, float]]:
    """Measure -> (simulated, theory) for one replication of one case."""
    scenario = case.scenario(size)
    rep = simulate(scenario, replication, events=case.per_level_little)
    out = {name: (measure(name, rep), value) for name, value in case.theory().items()}
    if case.checks_little:
        out.update(little(scenario, rep, case.per_level_little))
    return out


# --------------------------------------------------------------------------- runner
def run_validation(size: str | Size = "full", jobs: int | None = 1,
                   cases: Iterable[Case] = CASES) -> pd.DataFrame:
    """The validation table: one row per case and measure, ``pass`` when the theory lies in
    the simultaneous interval. ``jobs`` processes share the replications (None: all cores)."""
    return table(samples(cases, size, jobs))


def samples(cases: Iterable[Case], size: str | Size = "full",
            jobs: int | None = 1) -> list[tuple[str, str, np.ndarray, float]]:
    """(case, measure, per-replication values, theory) for every measure of every case."""
    size = SIZES[size] if isinstance(size, str) else size
    cases = list(cases)
    tasks = [(case, size, r) for case in cases for r in range(size.replications)]
    workers = min(jobs or os.cpu_count() or 1, len(tasks))
    if workers == 1:
        results = [replicate(*task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            results = list(pool.map(replicate, *zip(*tasks), chunksize=2))
    rows = []
    for i, case in enumerate(cases):
        reps = results[i * size.replications:(i + 1) * size.replications]
        for name in reps[0]:
            simulated = np.array([r[name][0] for r in reps])
            rows.append((case.name, name, simulated, float(np.mean([r[name][1] for r in reps]))))
    return rows


def table(rows: Sequence[tuple[str, str, np.ndarray, float]]) -> pd.DataFrame:
    """Means, simultaneous confidence intervals, relative errors and verdicts."""
    confidence = 1 - (1 - FAMILY_CONFIDENCE) / len(rows)
    out = []
    for case, name, values, theory in rows:
        mean, _, low, high, _ = mean_ci(values, confidence)
        slack = LITTLE_TOLERANCE if name.startswith("littles_law") else 0.0
        out.append({"case": case, "measure": name, "simulated": mean, "ci_low": low, "ci_high": high,
                    "theory": theory, "rel_error": (mean - theory) / theory if theory else np.nan,
                    "pass": bool(low - slack <= theory <= high + slack)})
    return pd.DataFrame(out, columns=list(TABLE_COLUMNS))


def format_table(frame: pd.DataFrame) -> str:
    """The table as aligned text, one line per measure."""
    head = f"{'case':<16} {'measure':<32} {'simulated':>10}  {'CI':^23} {'theory':>10} {'rel.err':>8}  pass"
    lines = [head, "-" * len(head)]
    for r in frame.to_dict("records"):
        ci = f"[{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
        lines.append(f"{r['case']:<16} {r['measure']:<32} {r['simulated']:>10.4g}  {ci:^23} "
                     f"{r['theory']:>10.4g} {r['rel_error']:>+8.2%}  {'yes' if r['pass'] else 'FAIL'}")
    return "\n".join(lines)
