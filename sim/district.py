"""The district: which grid belongs to which community, which community to which street.

Shibei has 22 streets, 137 communities and 1,064 grids. Communities are spread over streets
as evenly as possible (the first streets get one more when it does not divide), and grids
over communities the same way. Grid populations are lognormal around the mean, and the
grids that have a party branch, and among them those that have a guide, are drawn once per
seed: every replication of a scenario, and every scenario with the same seed and district,
has the same grids. Branch grids are a prefix of one shuffled order, so a pilot's 27 branch
grids are among the full rollout's 940.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.config import Scenario
from sim.streams import district_streams


@dataclass(frozen=True)
class District:
    community_of_grid: np.ndarray   # grid -> community
    street_of_community: np.ndarray  # community -> street
    street_of_grid: np.ndarray       # grid -> street
    population: np.ndarray           # residents per grid
    branch: np.ndarray               # grid has a party branch (bool)
    guided: np.ndarray               # grid has a guide (bool)
    departments: int

    @property
    def grids(self) -> int:
        return len(self.community_of_grid)

    @property
    def communities(self) -> int:
        return len(self.street_of_community)

    @property
    def streets(self) -> int:
        return int(self.street_of_community.max()) + 1


def spread(items: int, owners: int) -> np.ndarray:
    """Owner of each item when ``items`` are shared out as evenly as possible."""
    return np.repeat(np.arange(owners), [len(a) for a in np.array_split(np.arange(items), owners)])


def build_district(scenario: Scenario) -> District:
    """Lay out the scenario's district; the same seed gives the same district."""
    d, p = scenario.district, scenario.process
    streams = district_streams(scenario.seed)
    community_of_grid = spread(d.grids, d.communities)
    street_of_community = spread(d.communities, d.streets)
    population = grid_population(d.population, d.grids, d.population_cv, streams["population"])
    order = streams["branches"].permutation(d.grids)
    branch = np.zeros(d.grids, dtype=bool)
    branch[order[: p.grid_branches]] = True
    guided = np.zeros(d.grids, dtype=bool)
    guided_count = min(p.grid_branches, p.guides * p.guide_effect.grids_per_guide)
    guided[order[:guided_count]] = True
    return District(community_of_grid, street_of_community, street_of_community[community_of_grid],
                    population, branch, guided, d.departments)


def grid_population(total: int, grids: int, cv: float, rng: np.random.Generator) -> np.ndarray:
    """Lognormal grid sizes with coefficient of variation ``cv``, scaled to ``total``."""
    if cv == 0:
        weights = np.ones(grids)
    else:
        sigma = math.sqrt(math.log1p(cv**2))
        weights = rng.lognormal(-sigma**2 / 2, sigma, grids)
    return total * weights / weights.sum()


def scaled(scenario: Scenario, factor: float) -> Scenario:
    """The same district at ``factor`` of its size: fewer residents, grids, communities,
    streets and departments, and district-wide capacity (platform, leading group) cut in
    proportion, so every unit sees the load it saw; a calibration's cheaper stand-in, to be
    used only where it has been shown to give the same KPIs (docs/calibration.md)."""
    if factor == 1:
        return scenario
    d, p, lv = scenario.district, scenario.process, scenario.levels

    def cut(n: int) -> int:
        return max(1, round(n * factor))

    grids = cut(d.grids)
    changes: dict[str, float | int] = {
        "district.streets": cut(d.streets), "district.communities": cut(d.communities),
        "district.grids": grids, "district.population": round(d.population * factor),
        "district.departments": cut(d.departments),
        "process.grid_branches": min(grids, round(p.grid_branches * factor)),
        "process.guides": round(p.guides * factor), "levels.platform.staff": cut(lv.platform.staff)}
    group = lv.leadership
    if group.meets and group.items_per_meeting is not None:
        changes["levels.leadership.items_per_meeting"] = cut(group.items_per_meeting)
    elif group.staff is not None:
        changes["levels.leadership.staff"] = cut(group.staff)
    return scenario.with_overrides(changes, f"scaled by {factor:g}")
