"""The routing rules as plain functions: what a unit does with a complaint, and how many
random draws each decision takes (a draw only where the rules call for chance)."""

from __future__ import annotations

import pytest
from kit import tiny

from sim.draws import Purpose, VisitUniform
from sim.routing import (
    COMMUNITY,
    DEPARTMENT,
    GRID,
    LEADERSHIP,
    PLATFORM,
    STREET,
    Action,
    Rules,
    bounce_target,
    decide,
    entry_level,
    escalation_delay,
    fix_holds,
)


class Draws(VisitUniform):
    """A scripted uniform(0, 1) stream that counts how often it is asked."""

    def __init__(self, *values: float) -> None:
        self.values, self.used, self.purposes = list(values), 0, []

    def of(self, purpose: int) -> float:
        self.purposes.append(Purpose(purpose))
        value = self.values[self.used]
        self.used += 1
        return value


def rules(**process) -> Rules:
    return Rules.of(tiny(process=process))


BOUNCING = {"bounce": {"allowed": True, "probability": 0.4, "max_rounds": 2}}


def test_rules_of_a_scenario():
    r = rules(route=["grid", "street", "department"])
    assert r.route == (GRID, STREET, DEPARTMENT)
    assert r.next_level == (STREET, -1, DEPARTMENT, -1, -1, -1)
    assert r.top == DEPARTMENT


@pytest.mark.parametrize(("level", "needs", "expected"), [
    (GRID, GRID, Action.RESOLVE),
    (STREET, COMMUNITY, Action.RESOLVE),       # a higher level resolves lower needs
    (GRID, STREET, Action.ESCALATE),
    (STREET, DEPARTMENT, Action.ESCALATE),
    (DEPARTMENT, DEPARTMENT, Action.RESOLVE),
    (DEPARTMENT, LEADERSHIP, Action.STALL),    # top of the route, top_resolves_all false
])
def test_resolve_escalate_stall_without_chance(level, needs, expected):
    draws = Draws()
    assert decide(rules(), level, needs, False, 0, False, draws) == expected
    assert draws.used == 0


def test_top_resolves_all():
    r = rules(top_resolves_all=True)
    assert decide(r, DEPARTMENT, LEADERSHIP, False, 0, False, Draws()) == Action.RESOLVE


@pytest.mark.parametrize(("u", "bounces", "expected"), [
    (0.39, 0, Action.BOUNCE),
    (0.39, 1, Action.BOUNCE),
    (0.39, 2, Action.STALL),       # max_rounds reached
    (0.40, 0, Action.RESOLVE),     # not dodged: the department has the power
])
def test_unclear_complaint_is_dodged_with_the_bounce_probability(u, bounces, expected):
    draws = Draws(u)
    assert decide(rules(**BOUNCING), DEPARTMENT, DEPARTMENT, True, bounces, False, draws) == expected
    if expected != Action.STALL:        # a worn-out complaint may stall without a draw
        assert draws.purposes == [Purpose.DODGE]


def test_clear_complaint_is_never_dodged_and_draws_nothing():
    draws = Draws()
    assert decide(rules(**BOUNCING), DEPARTMENT, DEPARTMENT, False, 0, False, draws) == Action.RESOLVE
    assert draws.used == 0


def test_dodging_happens_only_at_the_bounce_level():
    draws = Draws()
    assert decide(rules(**BOUNCING), STREET, STREET, True, 0, False, draws) == Action.RESOLVE
    assert decide(rules(**BOUNCING), GRID, STREET, True, 0, False, draws) == Action.ESCALATE
    assert draws.used == 0


def test_nothing_above_the_bounce_level_means_always_bounce():
    """A clear complaint the department cannot resolve, with no higher level, goes back."""
    assert decide(rules(**BOUNCING), DEPARTMENT, PLATFORM, False, 0, False, Draws()) == Action.BOUNCE
    assert decide(rules(**BOUNCING), DEPARTMENT, PLATFORM, False, 2, False, Draws()) == Action.STALL


def test_bounce_level_below_the_top_escalates_what_it_cannot_resolve():
    r = rules(route=["grid", "street", "department", "platform"], **BOUNCING)
    draws = Draws(0.9)
    assert decide(r, DEPARTMENT, PLATFORM, True, 0, False, draws) == Action.ESCALATE
    assert draws.used == 1


@pytest.mark.parametrize(("u", "expected"), [(0.29, Action.RESOLVE), (0.3, Action.ESCALATE)])
def test_guided_grid_resolves_community_problems_by_chance(u, expected):
    r = rules(guides=1, guide_effect={"resolve_community": 0.3})
    draws = Draws(u)
    assert decide(r, GRID, COMMUNITY, False, 0, True, draws) == expected
    assert draws.purposes == [Purpose.GUIDE]


def test_guide_does_not_help_above_community_nor_unguided_grids():
    r = rules(guides=1, guide_effect={"resolve_community": 1.0})
    draws = Draws()
    assert decide(r, GRID, STREET, False, 0, True, draws) == Action.ESCALATE
    assert decide(r, GRID, COMMUNITY, False, 0, False, draws) == Action.ESCALATE
    assert draws.used == 0


@pytest.mark.parametrize(("route", "branch", "expected"), [
    (["grid", "street", "department"], True, GRID),
    (["grid", "street", "department"], False, STREET),     # no party branch: the next level
    (["grid", "community", "street"], False, COMMUNITY),
    (["community", "street", "department"], True, COMMUNITY),
    (["community", "street", "department"], False, COMMUNITY),
])
def test_entry_level_skips_grids_without_a_party_branch(route, branch, expected):
    assert entry_level(rules(route=route), branch) == expected


@pytest.mark.parametrize(("entry", "expected"), [(GRID, STREET), (COMMUNITY, STREET), (STREET, STREET),
                                                 (DEPARTMENT, DEPARTMENT)])
def test_bounce_target_is_bounce_to_or_the_entry_if_higher(entry, expected):
    assert bounce_target(rules(**BOUNCING), entry) == expected      # bounce.to: street


def test_escalation_delay_is_shortened_only_out_of_guided_grids():
    r = rules(guides=1, guide_effect={"delay_factor": 0.25})
    assert escalation_delay(r, GRID, True, 2.0) == 0.5
    assert escalation_delay(r, GRID, False, 2.0) == 2.0
    assert escalation_delay(r, COMMUNITY, True, 2.0) == 2.0


@pytest.mark.parametrize(("fixes", "u", "expected", "drawn"), [
    (1.0, None, True, []), (0.7, 0.69, True, [Purpose.FIX]), (0.7, 0.7, False, [Purpose.FIX]),
    (0.0, 0.0, False, [Purpose.FIX]),
])
def test_fix_holds_with_the_level_probability(fixes, u, expected, drawn):
    draws = Draws() if u is None else Draws(u)
    assert fix_holds(fixes, draws) is expected
    assert draws.purposes == drawn
