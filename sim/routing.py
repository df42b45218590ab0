"""What happens to a complaint when a unit has looked at it: resolve, bounce, escalate, stall.

A street office gets a leaking roof it has no budget for: it escalates to the housing
department. The department may resolve it, or, if the jurisdiction is unclear, cite
"territorial management" and bounce it back to the street. Under the whistle process no one
may bounce, and whatever the platform cannot solve goes up to the leading group, which
resolves everything. Each of these rules is one small function below; the model asks
``decide`` and only carries the answer out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from sim.config import LEVELS, Scenario
from sim.draws import DRAW_DODGE, DRAW_FIX, DRAW_GUIDE, VisitUniform

Uniform = VisitUniform
"""The complaint's own uniform(0, 1) draws at this visit: ``uniform.of(purpose)`` (``draws.Purpose``)."""

# the level indices (LEVELS), as Final ints: compiled, they are C constants
GRID: Final = 0
COMMUNITY: Final = 1
STREET: Final = 2
DEPARTMENT: Final = 3
PLATFORM: Final = 4
LEADERSHIP: Final = 5
assert len(LEVELS) == 6 and LEVELS.index("leadership") == LEADERSHIP


class Action(IntEnum):
    RESOLVE = 0
    BOUNCE = 1
    ESCALATE = 2
    STALL = 3


# The actions as plain constants, which ``decide`` returns (a compiled Final int is a C constant)
RESOLVE: Final = 0
BOUNCE: Final = 1
ESCALATE: Final = 2
STALL: Final = 3
assert list(Action) == [RESOLVE, BOUNCE, ESCALATE, STALL]


@dataclass(frozen=True)
class Rules:
    """The routing parameters of one scenario, as plain numbers for the hot path."""

    route: tuple[int, ...]          # level indices, bottom to top
    next_level: tuple[int, ...]     # per level index: the next level on the route, or -1
    top: int
    top_resolves_all: bool
    bounce_allowed: bool
    bounce_from: int
    bounce_to: int
    bounce_probability: float
    max_rounds: int
    guide_resolve_community: float
    guide_delay_factor: float
    fixes: tuple[float, ...]        # per level index: the chance that a resolution holds

    @classmethod
    def of(cls, scenario: Scenario) -> Rules:
        p = scenario.process
        route = tuple(LEVELS.index(level) for level in p.route)
        next_level = [-1] * len(LEVELS)
        for low, high in zip(route, route[1:]):
            next_level[low] = high
        return cls(route, tuple(next_level), route[-1], p.top_resolves_all, p.bounce.allowed,
                   LEVELS.index(p.bounce.from_), LEVELS.index(p.bounce.to), p.bounce.probability,
                   p.bounce.max_rounds, p.guide_effect.resolve_community,
                   p.guide_effect.delay_factor,
                   tuple(getattr(scenario.levels, name).fixes for name in LEVELS))


def can_resolve(rules: Rules, level: int, needs: int, guided: bool, uniform: Uniform) -> bool:
    """The unit has the power: its level is high enough, it is the all-resolving top, or a
    guide helps a grid solve a community-level problem."""
    if needs <= level:
        return True
    if level == rules.top and rules.top_resolves_all:
        return True
    return (level == GRID and guided and needs == COMMUNITY
            and uniform.of(DRAW_GUIDE) < rules.guide_resolve_community)


def dodges(rules: Rules, level: int, unclear: bool, uniform: Uniform) -> bool:
    """At the bounce level, an unclear complaint is sent back with the bounce probability,
    drawn anew on every pass ("territorial management")."""
    return unclear and uniform.of(DRAW_DODGE) < rules.bounce_probability


def worn_out(rules: Rules, bounces: int) -> bool:
    """After ``max_rounds`` bounces the back and forth ends: the complaint is left lying."""
    return bounces >= rules.max_rounds


def bounce_unless_worn_out(rules: Rules, bounces: int) -> int:
    """Send it back down, unless that would be one bounce more than ``max_rounds``."""
    return STALL if worn_out(rules, bounces) else BOUNCE


def decide(rules: Rules, level: int, needs: int, unclear: bool, bounces: int, guided: bool,
           uniform: Uniform) -> int:
    """The routing decision (an ``Action``) for a complaint a unit of ``level`` is about to
    work on."""
    at_bounce_level = rules.bounce_allowed and level == rules.bounce_from
    if at_bounce_level:
        if bounces > 0 and worn_out(rules, bounces):   # the loop has run its course
            return STALL
        if dodges(rules, level, unclear, uniform):
            return bounce_unless_worn_out(rules, bounces)
    if can_resolve(rules, level, needs, guided, uniform):
        return RESOLVE
    if rules.next_level[level] >= 0:
        return ESCALATE
    if at_bounce_level:                      # nowhere higher to go: always sent back
        return bounce_unless_worn_out(rules, bounces)
    return STALL


def entry_level(rules: Rules, branch: bool) -> int:
    """Where a grid's residents bring problems: the first level of the route, except that
    a route starting at the grid skips grids without a party branch."""
    first = rules.route[0]
    return rules.route[1] if first == GRID and not branch and len(rules.route) > 1 else first


def bounce_target(rules: Rules, entry: int) -> int:
    """Back to ``bounce.to``, or to where the complaint entered if it never passed that
    level (a complaint that entered at the street is not sent down to a community)."""
    return max(rules.bounce_to, entry)


def escalation_delay(rules: Rules, level: int, guided: bool, delay: float) -> float:
    """The delay on the way up: a guide speeds the way out of a guided grid by its factor."""
    return delay * rules.guide_delay_factor if level == GRID and guided else delay


def fix_holds(fixes: float, uniform: Uniform) -> bool:
    """A resolution fixes the problem with the level's ``fixes`` probability; else the
    resident finds out and reports it again."""
    return fixes >= 1.0 or uniform.of(DRAW_FIX) < fixes
