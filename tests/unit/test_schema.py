"""The JSON Schema of scenario files: every key described, the descriptions the same as in
docs/scenario-reference.md, and a validator built from it accepts every shipped scenario
and rejects broken ones, as an editor would while the file is typed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from kit import ROOT, SCENARIOS

from sim.cli import main
from sim.config import DIST_CLASSES
from sim.schema import field_descriptions, json_schema, schema_text

DOC = ROOT / "docs" / "scenario-reference.md"
DIST_FIELDS = {name for cls in DIST_CLASSES.values() for name in cls.model_fields}


def doc_rows() -> set[tuple[str, str]]:
    """(key, meaning) of every row of the reference's key tables."""
    rows: set[tuple[str, str]] = set()
    header: list[str] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = []
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not header:
            header = cells
        elif header[0] == "key" and header[-1] == "meaning" and not set(cells[0]) <= set("-"):
            rows.add((cells[0].strip("`"), " ".join(cells[-1].split())))
    return rows


def is_distribution_parameter(dotted: str) -> bool:
    parts = dotted.split(".")
    return len(parts) > 1 and parts[-1] in DIST_FIELDS and parts[-2] in (
        "handle", "resolve", "delay", "work", "escalation_delay", "patience", "reopen_after_days", "lead")


def test_every_key_has_a_description() -> None:
    missing = sorted({dotted for dotted, _, text in field_descriptions() if not text})
    assert not missing, ("keys without a description (add an attribute docstring on the line below "
                         f"the field in sim/config.py, and a row in {DOC.name}): {', '.join(missing)}")


def test_descriptions_and_reference_agree_both_ways() -> None:
    rows = doc_rows()
    assert len(rows) > 60
    fields = [(d, b, t) for d, b, t in field_descriptions() if not is_distribution_parameter(d)]
    undocumented = sorted({d for d, b, t in fields if t and (d, t) not in rows and (b, t) not in rows
                           and not _is_section(d)})
    assert not undocumented, (f"keys whose description is not a row of {DOC.name} (key and meaning "
                              f"as in the docstring): {', '.join(undocumented)}")
    known = {(d, t) for d, _, t in fields} | {(b, t) for _, b, t in fields}
    stale = sorted(f"{k}: {m}" for k, m in rows - known)
    assert not stale, f"rows of {DOC.name} that no field's description matches: {stale}"


def _is_section(dotted: str) -> bool:
    """Nested sections (``levels.grid``, ``process.bounce``) are described by their keys' rows."""
    return dotted.count(".") >= 1 and dotted.rsplit(".", 1)[-1] in (
        "grid", "community", "street", "department", "platform", "leadership", "guide_effect",
        "bounce", "pushdown")


def test_distribution_forms_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for form in DIST_CLASSES:
        assert f"{{dist: {form}" in text


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_schema_accepts_every_shipped_scenario(validator: jsonschema.Draft202012Validator,
                                               path: Path) -> None:
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
    assert errors == []


@pytest.mark.parametrize(("change", "word"), [
    ({"process": {"bounce": {"probability": 1.5}}}, "maximum"),
    ({"district": {"streetz": 3}}, "additionalProperties"),
    ({"levels": {"grid": {"handle": {"dist": "exponential", "mean": 0}}}}, "oneOf"),
    ({"replications": 0}, "minimum"),
    ({"name": "Not A Name"}, "pattern"),
    ({"process": {"route": ["grid", "boss"]}}, "enum"),
])
def test_schema_rejects_broken_scenarios(validator: jsonschema.Draft202012Validator, change: dict,
                                         word: str) -> None:
    raw = yaml.safe_load((SCENARIOS / "demo.yaml").read_text(encoding="utf-8"))
    for key, value in change.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) and key != "name" else value
    errors = list(validator.iter_errors(raw))
    assert errors and any(e.validator == word for e in _leaves(errors))


def _leaves(errors: list[jsonschema.ValidationError]) -> list[jsonschema.ValidationError]:
    out = []
    for e in errors:
        out.append(e)
        out.extend(_leaves(list(e.context or [])))
    return out


def test_schema_carries_descriptions_and_ranges() -> None:
    defs = json_schema()["$defs"]
    probability = defs["Bounce"]["properties"]["probability"]
    assert probability["minimum"] == 0 and probability["maximum"] == 1
    assert probability["description"].startswith("chance that the bounce level dodges")
    assert "\n" not in json.dumps(defs)           # descriptions on one line each
    assert "required" not in defs["Level"]        # a level written in part is filled in


def test_schema_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", str(tmp_path / "s.json")]) == 0
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == schema_text()
    capsys.readouterr()
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "govsim scenario file"
    assert main(["schema", "--out", str(tmp_path)]) == 2
    assert re.fullmatch(r"govsim: error: --out: .* is a folder \(expected a file name\)\n",
                        capsys.readouterr().err)


CALIBRATION = """
name: shibei-joint
scenarios:
  before: ../scenarios/shibei-2019-legacy.yaml
  after: ../scenarios/shibei-2020-whistle.yaml
parameters:
  - key: process.bounce.probability
    prior: {dist: uniform, low: 0.1, high: 0.9}
    scenarios: [before]
targets:
  - scenario: before
    kpi: resolution_reported_share
    value: 0.53
    sd: 0.05
    source: "Beijing 12345, Xinhua (2019)"
method: {population: 200, generations: 8, replications: 1, seed: 1}
"""


def test_calibration_schema_checks_a_calibration_file() -> None:
    validator = jsonschema.Draft202012Validator(json_schema("calibration"))
    raw = yaml.safe_load(CALIBRATION)
    assert list(validator.iter_errors(raw)) == []
    raw["parameters"][0]["prior"] = {"dist": "beta", "low": 0, "high": 1}
    raw["method"]["population"] = 1
    assert {e.validator for e in _leaves(list(validator.iter_errors(raw)))} >= {"minimum"}
    assert list(validator.iter_errors(raw))
