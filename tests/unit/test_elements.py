"""A reform's elements come from the difference of the resolved scenarios, grouped by a file."""

from __future__ import annotations

import pytest
import yaml
from kit import SCENARIOS, tiny

from sim.config import ScenarioError, load_scenario
from sim.elements import design, differences


def whistle_like():
    """tiny() with the grid on the route, guides, faster escalation and a leading group."""
    return tiny(name="reform", process={"route": ["grid", "street", "department", "leadership"],
                                        "guides": 1, "escalation_delay": {"dist": "fixed", "value": 0.1}})


def test_differences_are_the_resolved_keys_route_levels_and_whole_distributions():
    base = tiny(name="base", process={"route": ["community", "street", "department"],
                                      "escalation_delay": {"dist": "exponential", "mean": 1.0}},
                replications=5, seed=3)
    diffs = differences(base, whistle_like())
    assert diffs == {
        "process.route.grid": (False, True),
        "process.route.community": (True, False),
        "process.route.leadership": (False, True),
        "process.guides": (0, 1),
        "process.escalation_delay": ({"dist": "exponential", "mean": 1.0}, {"dist": "fixed", "value": 0.1}),
    }


def test_a_changed_default_is_a_difference_and_names_seeds_and_replications_are_not():
    base, reform = tiny(name="a"), tiny(name="b", seed=9, replications=7, description="other")
    assert differences(base, reform) == {}
    assert differences(base, tiny(name="b", levels={"street": {"staff": 2}})) == {
        "levels.street.staff": (1, 2)}


def test_every_combination_is_the_base_with_some_elements_of_the_reform(tmp_path):
    base = tiny(name="base")
    elements = tmp_path / "elements.yaml"
    groups = {"top": ["process.route.leadership"],
              "grid-work": ["process.guides", "process.escalation_delay"]}
    elements.write_text(yaml.safe_dump(groups, sort_keys=False))
    d = design(base, whistle_like(), elements)
    assert d.names == ["top", "grid-work"] and d.exact
    assert d.elements == {"top": ("process.route.leadership",),
                          "grid-work": ("process.guides", "process.escalation_delay.value")}
    routes = [c.scenario.process.route for c in d.combinations]
    assert routes == [("grid", "street", "department"), ("grid", "street", "department", "leadership")] * 2
    assert [c.scenario.process.guides for c in d.combinations] == [0, 0, 1, 1]
    assert [c.bits for c in d.combinations] == ["00", "10", "01", "11"]
    assert {c.scenario.seed for c in d.combinations} == {base.seed}


def test_without_a_file_each_key_is_an_element_and_above_ten_orders_are_sampled():
    base = tiny(name="base")
    levels = ("grid", "community", "street", "department", "platform")
    reform = tiny(name="reform", levels={lv: {"staff": 2} for lv in levels},
                  process={"guides": 1, "duplicate_contacts": 0.5, "top_resolves_all": True,
                           "grid_branches": 1, "pushdown": {"tasks_per_community_per_day": 1.0},
                           "bounce": {"probability": 0.5}})
    d = design(base, reform, pairs=4)
    assert len(d.elements) == 11 and not d.exact and d.orders.shape == (8, 11)
    assert len(d.combinations) <= 8 * 10 + 2 and d.combinations[0].mask == 0
    assert d.combinations[-1].mask == (1 << 11) - 1


@pytest.mark.parametrize("content, key, phrase", [
    ({"a": ["process.route"]}, "process.escalation_delay.value",
     "differs between the scenarios but is in no element"),
    ({"a": ["process"], "b": ["process.guides"]}, "process.guides", "is in elements a and b"),
    ({"a": ["process"], "b": ["process.gides"]}, "b.0", "'process.gides' is not a scenario key"),
    ({"a": "process"}, "a", "is not a list of keys"),
    ({"A B": ["process"]}, "A B", "is not an element name"),
    (["process"], "", "expected a mapping of element names"),
])
def test_a_bad_elements_file_names_the_key(tmp_path, content, key, phrase):
    path = tmp_path / "elements.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(ScenarioError) as err:
        design(tiny(name="base"), whistle_like(), path)
    assert err.value.source == str(path) and err.value.path == key and phrase in err.value.message


def test_a_combination_that_is_not_a_valid_scenario_is_bad_input():
    base = tiny(name="base", process={"bounce": {"allowed": True, "from": "department", "to": "street"}})
    reform = tiny(name="reform", process={"route": ["grid", "department"],
                                          "bounce": {"allowed": True, "from": "department", "to": "grid"}})
    with pytest.raises(ScenarioError) as err:
        design(base, reform)
    assert err.value.path == "process.bounce.to"
    assert "in the combination process.route.street (expected every combination" in err.value.message


def test_identical_scenarios_have_nothing_to_attribute():
    with pytest.raises(ScenarioError, match="does not differ"):
        design(tiny(name="a"), tiny(name="b"))


def test_the_shipped_shibei_elements_cover_the_shibei_pair():
    legacy, whistle = (load_scenario(SCENARIOS / f"shibei-{p}.yaml") for p in ("2019-legacy", "2020-whistle"))
    d = design(legacy, whistle, SCENARIOS / "elements" / "shibei-reform.yaml")
    assert set(d.names) | set(d.idle) == {
        "grid-branches", "grid-guides", "faster-escalation", "no-bounce-back",
        "platform-and-leading-group", "skip-community", "merged-grids", "fixes-that-hold",
        "lighter-pushdown"}
    assert len(d.combinations) == 2 ** len(d.names) and d.combinations[-1].scenario.process.route == \
        whistle.process.route
