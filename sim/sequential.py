"""How many replications: a fixed number, or enough for a confidence interval of a given width.

"Mean days to close within half a day" is a question about precision, not about a count of
replications. The sequential procedure of Hoad, Robinson and Davies (2010, "Automated
selection of the number of replications for a discrete-event simulation", JORS 61) answers
it: start with a few replications, add more until the 95% CI half-width of the KPI is below
the target, then keep going for a few more (the look-ahead) to make sure the interval did not
dip below the target by luck. Replications are added in index order and the rule is checked
after each one, so the count it settles on depends only on the scenario and the seed, never
on how many workers computed them or in what batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from sim.config import ScenarioError
from sim.metrics import CONFIDENCE, mean_ci

FIRST = 3
"""Replications before the rule is first checked (Hoad et al.: three)."""
LOOK_AHEAD = 5
"""Extra replications that must keep the interval narrow enough (Hoad et al.: kLimit = 5)."""
DEFAULT_CAP = 100
"""Most replications the procedure adds before it gives up."""
FLAG = "--target-halfwidth"


def parse_targets(items: Iterable[str], kpis: Sequence[str], source: str = FLAG) -> dict[str, float]:
    """``["days_to_close_mean=0.5"]`` -> ``{"days_to_close_mean": 0.5}``, checked."""
    out: dict[str, float] = {}
    for item in items:
        kpi, sep, text = item.partition("=")
        if not sep or not kpi.strip():
            raise ScenarioError(source, item, "expected KPI=VALUE, e.g. days_to_close_mean=0.5")
        try:
            out[kpi.strip()] = float(text)
        except ValueError:
            raise ScenarioError(source, kpi.strip(), f"{text!r} is not a number "
                                "(expected a half-width above 0)") from None
    return check_targets(out, kpis, source)


def check_targets(targets: Mapping[str, float], kpis: Sequence[str], source: str = FLAG) -> dict[str, float]:
    for kpi, value in targets.items():
        if kpi not in kpis:
            raise ScenarioError(source, kpi, f"unknown KPI (expected one of: {', '.join(kpis)})")
        if not (math.isfinite(value) and value > 0):
            raise ScenarioError(source, kpi, f"{value!r} is out of range (expected a half-width above 0)")
    return dict(targets)


def look_ahead(n: int) -> int:
    """Hoad et al.'s f(kLimit, n): kLimit up to 100 replications, then in proportion."""
    return LOOK_AHEAD if n <= 100 else math.floor(LOOK_AHEAD * n / 100)


def halfwidth(values: np.ndarray) -> float:
    _, _, low, high, _ = mean_ci(values, CONFIDENCE)
    return (high - low) / 2


class Plan:
    """When to stop adding replications.

    ``add`` takes replication r's KPIs, one dict per scenario compared (one for a plain run).
    With targets, every scenario's interval and every paired difference to the first
    scenario must be narrow enough.
    """

    def __init__(self, first: int, cap: int, targets: Mapping[str, float] | None = None) -> None:
        if first < 1 or cap < first:
            raise ValueError(f"need 1 <= first ({first}) <= cap ({cap})")
        self.first, self.cap, self.targets = first, cap, dict(targets or {})
        self.values: dict[str, list[list[float]]] = {k: [] for k in self.targets}
        self.n = 0
        self.candidate: int | None = None
        self.met = not self.targets
        self.done = False

    @classmethod
    def fixed(cls, count: int) -> Plan:
        return cls(count, count)

    @property
    def sequential(self) -> bool:
        return bool(self.targets)

    def add(self, rows: Sequence[Mapping[str, float]]) -> None:
        self.n += 1
        for kpi, series in self.values.items():
            series.append([row[kpi] for row in rows])
        if self.sequential and self.n >= self.first:
            self._check()
        self.done = self.done or self.n >= self.cap or (not self.sequential and self.n >= self.first)

    def _check(self) -> None:
        if not all(self.widths()[k] <= v for k, v in self.targets.items()):
            self.candidate = None
            return
        if self.candidate is None:
            self.candidate = self.n
        if self.n >= self.candidate + look_ahead(self.candidate):
            self.met = self.done = True

    def widths(self) -> dict[str, float]:
        """Per target KPI, the widest half-width among the scenarios and their differences."""
        out = {}
        for kpi, series in self.values.items():
            x = np.asarray(series, dtype=float)
            columns = [x[:, j] for j in range(x.shape[1])]
            columns += [x[:, j] - x[:, 0] for j in range(1, x.shape[1])]
            widths = [halfwidth(c) for c in columns]
            out[kpi] = math.inf if any(math.isnan(w) for w in widths) else max(widths)
        return out

    def report(self) -> dict[str, Any]:
        """What the procedure did, for the manifest and the terminal."""
        if not self.sequential:
            return {"rule": "fixed", "replications": self.n}
        widths = self.widths()
        return {
            "rule": "sequential (Hoad, Robinson and Davies 2010)",
            "confidence": CONFIDENCE, "first": self.first, "look_ahead": LOOK_AHEAD, "cap": self.cap,
            "replications": self.n, "met": self.met,
            "met_from": self.candidate if self.met else None,
            "targets": {k: {"halfwidth": widths[k], "target": v} for k, v in self.targets.items()},
        }

    def rule(self) -> dict[str, Any] | None:
        """The report, for a manifest, when this plan chose the number of replications."""
        return self.report() if self.sequential else None

    def describe(self) -> str:
        """One or two lines: the targets, the half-widths reached and the count."""
        if not self.sequential:
            return f"{self.n} replications"
        parts = [f"{k} half-width {_g(w['halfwidth'])} (target {_g(w['target'])})"
                 for k, w in self.report()["targets"].items()]
        if self.met:
            head = (f"target met from {self.candidate} replications, held for "
                    f"{self.n - (self.candidate or 0)} more: {self.n} replications")
        else:
            head = f"target NOT met: stopped at the cap of {self.cap} replications"
        return f"{head}; " + "; ".join(parts)


def _g(x: float) -> str:
    return f"{x:.4g}"
