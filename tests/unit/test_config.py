"""The scenario schema: every kind of bad input gets one message naming its key; good input
is filled with defaults, frozen, and survives a round trip through YAML."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest
import yaml
from kit import BROKEN, SCENARIOS, tiny, tiny_raw

from sim.config import LEVELS, ScenarioError, apply_overrides, load_scenario, parse_overrides, validate


@pytest.mark.parametrize(("change", "key", "phrase"),
                         [pytest.param(*case[1:], id=case[0]) for case in BROKEN])
def test_broken_scenario_names_the_key(change, key, phrase):
    raw = tiny_raw()
    change(raw)
    with pytest.raises(ScenarioError) as caught:
        validate(raw, "broken.yaml")
    message = str(caught.value)
    assert message.startswith(f"broken.yaml: {key}: "), message
    assert phrase in message
    assert "\n" not in message
    assert (caught.value.source, caught.value.path) == ("broken.yaml", key)


def test_there_are_many_kinds_of_broken_scenario():
    assert len({key for _, _, key, _ in BROKEN}) >= 15


def test_each_broken_case_is_valid_without_its_change():
    """The base the broken cases start from is itself valid, so each message is about the
    change and nothing else."""
    assert validate(tiny_raw(), "base.yaml").name == "tiny"


@pytest.mark.parametrize(("key", "value"), [("district.streets", True), ("process.bounce.allowed", 1)])
def test_true_false_and_numbers_are_not_interchangeable(key, value):
    """YAML true is not 1 street, and 1 is not true: both are the wrong type."""
    section, _, last = key.rpartition(".")
    raw = tiny_raw()
    node = raw
    for part in section.split("."):
        node = node[part]
    node[last] = value
    with pytest.raises(ScenarioError, match=f"{key}: .*wrong type"):
        validate(raw, "broken.yaml")


# --------------------------------------------------------------------------- files
def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "where", "phrase"), [
    pytest.param("name: x\n  bad: [1,\n", "line 2", "not valid YAML", id="bad-yaml"),
    pytest.param("- a\n- b\n", None, "expected a mapping of scenario keys at the top level", id="list"),
    pytest.param("just text\n", None, "expected a mapping of scenario keys", id="scalar"),
    pytest.param("", None, "expected a mapping of scenario keys", id="empty"),
])
def test_unreadable_file_names_the_file(tmp_path, text, where, phrase):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: " + (f"{where}: " if where else ""))
    assert phrase in message


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(path)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


def test_broken_file_names_the_file_and_the_key(tmp_path):
    raw = tiny_raw()
    raw["process"]["bounce"]["probability"] = 2
    path = write(tmp_path, yaml.safe_dump(raw))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: process.bounce.probability: 2 is out of range")


# --------------------------------------------------------------------------- overrides
@pytest.mark.parametrize(("items", "key", "phrase"), [
    pytest.param(["process.bounce.probability"], "process.bounce.probability", "expected KEY=VALUE",
                 id="no-equals"),
    pytest.param(["=3"], "=3", "expected KEY=VALUE", id="no-key"),
    pytest.param(["seed=[1"], "seed", "is not valid YAML", id="bad-yaml-value"),
    pytest.param(["process.bounce.probability=2"], "process.bounce.probability", "out of range",
                 id="out-of-range"),
    pytest.param(["process.bounc.probability=0.2"], "process.bounc", "unknown key", id="unknown-key"),
    pytest.param(["categories.3.weight=1"], "categories.3", "expected a list index from 0 to 0",
                 id="index-out-of-range"),
    pytest.param(["categories.first.weight=1"], "categories.first", "expected a list index",
                 id="index-not-a-number"),
    pytest.param(["seed.low=1"], "seed.low", "is not a section", id="below-a-value"),
    pytest.param(["process.route=[street, grid]"], "process.route", "not strictly increasing",
                 id="route"),
])
def test_bad_override_names_the_key(tmp_path, items, key, phrase):
    path = write(tmp_path, yaml.safe_dump(tiny_raw()))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, items)
    assert caught.value.path == key
    assert phrase in caught.value.message


def test_overrides_parse_values_as_yaml():
    assert parse_overrides(["a.b=0.3", "c=[x, y]", "d=true", "e=null", "f=g=h"]) == {
        "a.b": 0.3, "c": ["x", "y"], "d": True, "e": None, "f": "g=h"}


def test_overrides_apply_to_a_copy_by_dotted_path_and_list_index():
    raw = tiny_raw()
    out = apply_overrides(raw, {"process.bounce.probability": 0.3, "categories.0.unclear": 0.2,
                                "residents.follow_up_every_days": 7}, "--set")
    assert out["process"]["bounce"]["probability"] == 0.3
    assert out["categories"][0]["unclear"] == 0.2
    assert out["residents"]["follow_up_every_days"] == 7
    assert raw["process"]["bounce"]["probability"] == 1.0        # the original is untouched


def test_file_overrides_are_validated_and_applied(tmp_path):
    path = write(tmp_path, yaml.safe_dump(tiny_raw()))
    s = load_scenario(path, ["process.bounce.allowed=true", "process.bounce.probability=0.25",
                             "levels.street.staff=3"])
    assert s.process.bounce.allowed and s.process.bounce.probability == 0.25
    assert s.levels.street.staff == 3
    assert load_scenario(path, {"seed": 99}).seed == 99


# --------------------------------------------------------------------------- good input
def test_defaults_are_filled_in():
    s = validate({"name": "minimal", "categories": [{"name": "a", "weight": 1, "needs": {"grid": 1}}]})
    resolved = s.resolved()
    assert resolved["district"] == {"streets": 22, "communities": 137, "grids": 1064,
                                    "population": 1100000, "population_cv": 0.3, "departments": 29}
    assert resolved["process"]["route"] == ["grid", "street", "department", "platform", "leadership"]
    assert resolved["process"]["bounce"]["from"] == "department"
    assert resolved["levels"]["leadership"]["meeting_every_days"] is not None
    assert set(resolved) == {"name", "description", "seed", "horizon_days", "warmup_days",
                             "cooldown_days", "replications", "sla_days", "district", "arrivals",
                             "categories", "levels", "process", "residents", "satisfaction"}
    assert set(resolved["levels"]) == set(LEVELS)


def test_scenario_is_frozen():
    s = tiny()
    with pytest.raises(pydantic.ValidationError):
        s.seed = 2
    with pytest.raises(pydantic.ValidationError):
        s.process.bounce.probability = 0.1


def test_resolved_scenario_round_trips_through_yaml(tmp_path):
    s = tiny(process={"bounce": {"allowed": True}})
    path = write(tmp_path, s.to_yaml())
    again = load_scenario(path)
    assert again == s
    assert again.sha256() == s.sha256()
    assert tiny(seed=2).sha256() != s.sha256()


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_is_valid(path):
    s = load_scenario(path)
    assert s.name == path.stem
