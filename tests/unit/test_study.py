"""Calibration and sensitivity files: checked against their scenarios, one located line per
mistake, and a point of the parameter space turned into the scenarios to run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml
from kit import SCENARIOS
from kit import write_study as write

from sim.calibrate import calibrated_yaml
from sim.cli import main
from sim.config import ScenarioError
from sim.priors import LogUniformPrior, NormalPrior
from sim.study import CalibrationFile, load_study


def calibration(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "demo-joint",
        "scenarios": {"before": str(SCENARIOS / "demo-legacy.yaml"), "after": str(SCENARIOS / "demo.yaml")},
        "parameters": [
            {"key": "process.bounce.probability", "prior": {"dist": "uniform", "low": 0.1, "high": 0.9},
             "scenarios": ["before"]},
            {"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 1.0, "high": 6.0}},
            {"key": "levels.street.staff", "prior": {"dist": "uniform", "low": 2, "high": 12}},
        ],
        "targets": [{"scenario": "before", "kpi": "resolved_share", "value": 0.53, "sd": 0.05,
                     "source": "Beijing 12345, Xinhua (2019)"}],
        "method": {"population": 20, "generations": 2},
    }
    spec.update(changes)
    return spec


def test_a_point_sets_each_key_in_its_own_scenarios(tmp_path):
    study = load_study(write(tmp_path, calibration()))
    at = study.scenarios_at([0.3, 4.0, 6.6])
    assert at["before"].process.bounce.probability == 0.3
    assert at["after"].process.bounce.probability == study.scenarios["after"].process.bounce.probability
    assert at["before"].satisfaction.intercept == at["after"].satisfaction.intercept == 4.0
    assert at["after"].levels.street.staff == 7            # a whole-number key is rounded
    assert isinstance(study.spec, CalibrationFile)


def test_a_parameter_with_also_sets_each_of_its_keys_to_one_value(tmp_path):
    spec = calibration()
    spec["parameters"][2] = {"key": "levels.street.staff", "also": ["levels.community.staff"],
                             "prior": {"dist": "uniform", "low": 2, "high": 12}, "scenarios": ["after"]}
    study = load_study(write(tmp_path, spec))
    at = study.scenarios_at([0.3, 4.0, 6.6])
    assert at["after"].levels.street.staff == at["after"].levels.community.staff == 7
    assert at["before"].levels.street.staff == study.scenarios["before"].levels.street.staff
    assert "also" not in yaml.safe_load(study.to_yaml())["parameters"][0]     # the default is not printed
    values = dict(zip(study.labels, [0.3, 4.0, 6.6], strict=True))
    notes = dict.fromkeys(study.labels, "median")
    text = calibrated_yaml(study, "after", values, notes, "demo.yaml")
    assert [line.split("#")[0].strip() for line in text.splitlines() if "# calibrated" in line] == [
        "staff: 7", "staff: 7", "intercept: 4.0"]        # community, street, then satisfaction: file order


@pytest.mark.parametrize(("change", "where", "phrase"), [
    ({"name": "Bad Name"}, "name", "not allowed"),
    ({"scenarios": {"before": "nowhere.yaml"}}, "scenarios.before", "no such file"),
    ({"parameters": [{"key": "process.nope", "prior": {"dist": "uniform", "low": 0, "high": 1}}]},
     "parameters.0.key", "is not a key of scenario"),
    ({"parameters": [{"key": "process.route", "prior": {"dist": "uniform", "low": 0, "high": 1}}]},
     "parameters.0.key", "expected a key whose value is a number"),
    ({"parameters": [{"key": "process.bounce.probability",
                      "prior": {"dist": "uniform", "low": 0.1, "high": 1.5}}]},
     "parameters.0.prior.high", "out of range"),
    ({"parameters": [{"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 2, "high": 1}}]},
     "parameters.0.prior.high", "expected low < high"),
    ({"parameters": [{"key": "satisfaction.intercept", "prior": {"dist": "beta", "low": 0, "high": 1}}]},
     "parameters.0.prior", "uniform, loguniform, normal"),
    ({"parameters": [{"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 0, "high": 1},
                      "scenarios": ["during"]}]}, "parameters.0.scenarios", "unknown scenario 'during'"),
    ({"parameters": [{"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 0, "high": 1}},
                     {"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 0, "high": 2},
                      "scenarios": ["after"]}]}, "parameters.1.key", "already a parameter of after"),
    ({"parameters": [{"key": "satisfaction.intercept", "also": ["levels.street.nope"],
                      "prior": {"dist": "uniform", "low": 0, "high": 1}}]},
     "parameters.0.also.0", "levels.street.nope is not a key of scenario"),
    ({"parameters": [{"key": "levels.street.staff", "also": ["levels.street.staff"],
                      "prior": {"dist": "uniform", "low": 2, "high": 4}}]},
     "parameters.0.also.0", "listed twice"),
    ({"parameters": [{"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 0, "high": 1}},
                     {"key": "levels.street.staff", "also": ["satisfaction.intercept"],
                      "prior": {"dist": "uniform", "low": 2, "high": 4}}]},
     "parameters.1.key", "already a parameter of after, before"),
    ({"targets": [{"scenario": "before", "kpi": "resolved_pct", "value": 0.5, "sd": 0.1, "source": "x"}]},
     "targets.0.kpi", "is not a KPI"),
    ({"targets": [{"scenario": "during", "kpi": "resolved_share", "value": 0.5, "sd": 0.1, "source": "x"}]},
     "targets.0.scenario", "unknown scenario"),
    ({"targets": [{"scenario": "before", "kpi": "resolved_share", "value": 0.5, "sd": 0, "source": "x"}]},
     "targets.0.sd", "out of range"),
    ({"method": {"population": 1}}, "method.population", "out of range"),
    ({"method": {"particles": 10}}, "method.particles", "unknown key (expected one of: population"),
])
def test_a_broken_study_file_names_the_key(tmp_path, change, where, phrase):
    path = write(tmp_path, calibration(**change))
    with pytest.raises(ScenarioError) as caught:
        load_study(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}: "), message
    assert phrase in message


def test_check_prints_a_study_file_and_refuses_set(tmp_path, capsys):
    path = write(tmp_path, calibration())
    assert main(["check", str(path)]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["loaded"] == {"before": "demo-legacy", "after": "demo"}
    assert printed["method"]["replications"] == 1             # defaults filled in
    assert main(["check", str(path), "--set", "seed=3"]) == 2
    assert "--set and --seed apply to scenario files" in capsys.readouterr().err


def test_a_sensitivity_file_needs_known_outputs(tmp_path):
    spec = calibration()
    del spec["targets"], spec["method"]
    spec["outputs"] = [{"kpi": "resolved_share", "diff": ["before", "after"]},
                       {"kpi": "days_to_close_mean", "scenario": "after"}]
    study = load_study(write(tmp_path, spec))
    labels = [o.label for o in study.spec.outputs]
    assert labels == ["resolved_share@after-before", "days_to_close_mean@after"]
    spec["outputs"] = [{"kpi": "resolved_share", "scenario": "before", "diff": ["before", "after"]}]
    with pytest.raises(ScenarioError, match="outputs.0.scenario: expected exactly one of scenario or diff"):
        load_study(write(tmp_path, spec))


def test_prior_quantiles_map_the_unit_interval_onto_the_prior():
    u = np.array([0.0, 0.5, 1.0])
    assert np.allclose(LogUniformPrior(dist="loguniform", low=0.01, high=1.0).ppf(u), [0.01, 0.1, 1.0])
    normal = NormalPrior(dist="normal", mean=0.0, sd=1.0, low=-1.0, high=1.0)
    assert np.allclose(normal.ppf(u), [-1.0, 0.0, 1.0])


def test_evaluate_runs_every_point_on_common_random_numbers_unless_given_seeds(tmp_path):
    from sim.experiment import simulate_kpis
    from sim.study import evaluate

    study = load_study(write(tmp_path, calibration()))
    table = evaluate(study, [[0.2, 3.0, 5.0], [0.8, 3.0, 5.0]], replications=1)
    assert list(table[["point", "scenario"]].itertuples(index=False, name=None)) == [
        (0, "before"), (0, "after"), (1, "before"), (1, "after")]
    after = table[table["scenario"] == "after"]       # the bounce key is not after's: same runs
    assert after["resolved_share"].nunique() == 1
    direct = simulate_kpis(study.scenarios_at([0.8, 3.0, 5.0])["before"], 0)
    assert table.iloc[2]["resolved_share"] == direct["resolved_share"]
    seeded = evaluate(study, [[0.2, 3.0, 5.0], [0.2, 3.0, 5.0]], replications=1, seeds=[1, 2])
    assert seeded.iloc[0]["arrivals"] != seeded.iloc[2]["arrivals"]


def test_a_missing_key_is_named_even_after_keys_that_exist(tmp_path, capsys):
    """The key check comes before the prior check, which sets every parameter at once."""
    spec = calibration()
    spec["parameters"].append({"key": "levels.street.nope",
                               "prior": {"dist": "uniform", "low": 0, "high": 1}})
    assert main(["check", str(write(tmp_path, spec))]) == 2
    assert "parameters.3.key: levels.street.nope is not a key of scenario before" in capsys.readouterr().err


def test_every_number_of_a_shipped_calibration_file_carries_a_comment():
    """Each prior, target value, sd and method number says where it comes from."""
    import re

    number = re.compile(r"(?<![\w.\-/])-?\d")
    for path in sorted((SCENARIOS.parent / "calibration").glob("*.yaml")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code, _, comment = line.partition(" #")
            code = re.sub(r'"[^"]*"', "", code)
            if number.search(code) and not comment.strip() and not line.lstrip().startswith("#"):
                raise AssertionError(f"{path.name}:{n}: a number without a comment: {line.strip()}")


def test_the_shipped_shibei_calibration_is_valid(capsys):
    assert main(["check", str(SCENARIOS.parent / "calibration" / "shibei-joint.yaml")]) == 0
    assert "loaded:\n  before: shibei-2019-legacy\n  after: shibei-2020-whistle" in capsys.readouterr().out


def test_the_target_screening_screens_every_key_the_calibration_sets():
    # sensitivity/shibei-targets.yaml is the evidence for which numbers the calibration's
    # targets inform, and so for which ones the calibration holds: it must vary every key the
    # calibration sets, over the same prior, for its target KPIs, on its scenarios
    root = SCENARIOS.parent
    calibration = load_study(root / "calibration" / "shibei-joint.yaml", "calibration")
    screening = load_study(root / "sensitivity" / "shibei-targets.yaml", "sensitivity")

    def priors(study):
        return {(key, alias): p.prior for p in study.spec.parameters for key in p.keys
                for alias in p.scenarios or study.spec.scenarios}

    calibrated = priors(calibration)
    assert calibrated.items() <= priors(screening).items()
    assert len(calibrated) > len(calibration.spec.parameters)      # the file ties keys together
    assert screening.spec.scenarios == calibration.spec.scenarios
    assert [(o.kpi, o.scenario) for o in screening.spec.outputs] == \
        [(t.kpi, t.scenario) for t in calibration.spec.targets]
