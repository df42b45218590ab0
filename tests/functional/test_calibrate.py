"""govsim calibrate: known numbers are found again, an interrupted calibration continues
without recomputing, the outputs follow DESIGN section 9, bad input gets one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from kit import SCENARIOS

from sim.calibrate import ParticleModel, calibrate, effective_sample_size, fingerprint, particle_seed
from sim.cli import main
from sim.config import load_scenario
from sim.experiment import simulate_kpis
from sim.posterior import weighted_quantiles
from sim.study import load_study, lookup

SMALL = {"horizon_days": 110, "warmup_days": 10, "cooldown_days": 20, "district.population": 16000,
         "district.grids": 16, "district.communities": 4, "district.streets": 1,
         "district.departments": 2}
BRANCHES = {"process.grid_branches": 14, "process.guides": 4}
TRUTH = {"satisfaction.intercept": 3.0, "process.bounce.probability": 0.4,
         "arrivals.per_1000_residents_per_day": 0.575}
PRIORS = {"satisfaction.intercept": (1.0, 6.0), "process.bounce.probability": (0.05, 0.95),
          "arrivals.per_1000_residents_per_day": (0.3, 1.2)}


def small_district(folder: Path) -> dict[str, str]:
    """The demo pair at 1/2.5 of its size and a shorter horizon: a joint calibration's
    particle costs about a quarter of a second."""
    paths = {}
    for alias, name, extra in (("before", "demo-legacy", {}), ("after", "demo", BRANCHES)):
        scenario = load_scenario(SCENARIOS / f"{name}.yaml").with_overrides({**SMALL, **extra})
        paths[alias] = str(folder / f"{name}.yaml")
        Path(paths[alias]).write_text(scenario.to_yaml())
    return paths


def spec_file(folder: Path, targets: list[dict[str, Any]], **method: Any) -> Path:
    spec = {
        "name": "recovery",
        "scenarios": small_district(folder),
        "parameters": [
            {"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 1.0, "high": 6.0}},
            {"key": "process.bounce.probability", "prior": {"dist": "uniform", "low": 0.05, "high": 0.95},
             "scenarios": ["before"]},
            {"key": "arrivals.per_1000_residents_per_day",
             "prior": {"dist": "uniform", "low": 0.3, "high": 1.2}},
        ],
        "targets": targets,
        "method": {"population": 25, "generations": 4, "seed": 5, **method},
    }
    path = folder / "recovery.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def truth_targets(folder: Path) -> list[dict[str, Any]]:
    """Targets simulated at the known values (4 replications on a seed no particle uses),
    each ``sd`` twice the replication-to-replication spread seen there, and at least 2% of
    the value (no target is known better than that)."""
    wanted = [("before", "satisfaction_mean"), ("after", "satisfaction_mean"),
              ("before", "bounces_mean"), ("after", "arrivals")]
    runs: dict[str, list[dict[str, float]]] = {}
    for alias, path in small_district(folder).items():
        keys = {k: v for k, v in TRUTH.items() if alias == "before" or "bounce" not in k}
        scenario = load_scenario(path).with_overrides({**keys, "seed": 999})
        runs[alias] = [simulate_kpis(scenario, r) for r in range(4)]
    targets = []
    for alias, kpi in wanted:
        values = np.array([k[kpi] for k in runs[alias]])
        targets.append({"scenario": alias, "kpi": kpi, "value": float(values.mean()),
                        "sd": float(max(2 * values.std(ddof=1), 0.02 * abs(values.mean()))),
                        "source": "simulated at the known values"})
    return targets


def test_a_joint_calibration_finds_known_values_again(tmp_path):
    """Each 90% posterior interval covers the value the targets were simulated from, and is
    narrower than the prior's 90%: the method learns, and learns the right thing."""
    spec = spec_file(tmp_path, truth_targets(tmp_path))
    result = calibrate(load_study(spec), tmp_path / "out")
    table = result.summary.set_index("parameter")
    for key, truth in TRUTH.items():
        low, high = PRIORS[key]
        row = table.loc[key]
        assert row.q05 <= truth <= row.q95, f"{key}: 90% [{row.q05:.3g}, {row.q95:.3g}] misses {truth}"
        assert row.q95 - row.q05 < 0.9 * (high - low), f"{key}: no narrower than the prior"
    assert result.predictive["within_90"].all()


class Simulations(list[int]):
    """One entry per particle simulated in this process; past ``limit`` a simulation is
    interrupted as a KeyboardInterrupt would."""

    limit: int | None = None


@pytest.fixture
def simulations(monkeypatch) -> Simulations:
    """Counts ``ParticleModel.simulate`` calls from here on (``clear()`` to start again)."""
    calls = Simulations()
    original = ParticleModel.simulate

    def counted(self, point, seed):  # type: ignore[no-untyped-def]
        calls.append(1)
        if calls.limit is not None and len(calls) > calls.limit:
            raise KeyboardInterrupt
        return original(self, point, seed)

    monkeypatch.setattr(ParticleModel, "simulate", counted)
    return calls


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    """A two-generation calibration of six particles, and its folder."""
    folder = tmp_path_factory.mktemp("tiny")
    targets = [{"scenario": "before", "kpi": "satisfaction_mean", "value": 0.8, "sd": 0.05, "source": "s"},
               {"scenario": "before", "kpi": "bounces_mean", "value": 0.1, "sd": 0.05, "source": "s"}]
    spec = spec_file(folder, targets, population=6, generations=2)
    assert main([ "calibrate", str(spec), "--out", str(folder / "out"), "--quiet"]) == 0
    return spec, folder / "out"


def test_the_folder_holds_what_design_section_9_lists(tiny):
    spec, out = tiny
    assert sorted(p.name for p in out.iterdir()) == [
        "calibrated", "calibration.json", "history.db", "manifest.json", "particles", "posterior.csv",
        "posterior.parquet", "posterior.png", "predictive.csv"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(list((out / "particles").iterdir())) == sum(g["simulations"] for g in manifest["generations"])
    posterior = pd.read_parquet(out / "posterior.parquet")
    assert list(posterior.columns) == [*PRIORS, "weight"] and len(posterior) == 6
    assert posterior["weight"].sum() == pytest.approx(1.0)
    assert list(pd.read_csv(out / "posterior.csv").columns) == [
        "parameter", "prior", "mean", "median", "q05", "q95"]
    assert list(pd.read_csv(out / "predictive.csv").columns) == [
        "scenario", "kpi", "target", "sd", "median", "q05", "q95", "within_90"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "calibrate" and manifest["stopped"] == "generations"
    assert [g["generation"] for g in manifest["generations"]] == [1, 2]
    assert manifest["simulations"] == sum(g["simulations"] for g in manifest["generations"]) * 2
    first, last = manifest["generations"]
    assert first["effective_sample_size"] == pytest.approx(6)      # the prior's sample: equal weights
    weights = posterior["weight"].to_numpy()
    assert last["effective_sample_size"] == pytest.approx(weights.sum() ** 2 / (weights ** 2).sum())


def test_the_effective_sample_size_counts_the_particles_the_weights_rest_on():
    assert effective_sample_size([0.25] * 4) == pytest.approx(4)
    assert effective_sample_size([1.0, 0.0, 0.0]) == pytest.approx(1)
    assert effective_sample_size([3.0, 1.0]) == pytest.approx(16 / 10)    # (3 + 1)^2 / (9 + 1)


def test_calibrated_scenarios_hold_the_medians_on_lines_marked_calibrated(tiny):
    spec, out = tiny
    study = load_study(spec)
    medians = pd.read_csv(out / "posterior.csv").set_index("parameter")["median"]
    for alias in ("before", "after"):
        text = (out / "calibrated" / f"{alias}.yaml").read_text()
        marked = [line for line in text.splitlines() if "# calibrated:" in line]
        assert len(marked) == (3 if alias == "before" else 2)
        calibrated = load_scenario(out / "calibrated" / f"{alias}.yaml")
        original = study.scenarios[alias]
        keys = [k for k in PRIORS if alias == "before" or "bounce" not in k]
        for key in keys:
            assert lookup(calibrated.resolved(), key) == pytest.approx(medians[key], rel=1e-9)
        put_back = calibrated.with_overrides({k: lookup(original.resolved(), k) for k in keys})
        assert put_back.sha256() == original.sha256()      # nothing else changed


def test_an_interrupted_calibration_continues_where_it_stopped(tiny, tmp_path, simulations):
    """Stopped during generation 2, resumed: the same posterior as the uninterrupted run;
    generation 1 is not simulated again, nor the particles of generation 2 made before the
    stop (they are read back from the folder's particle store)."""
    spec, whole = tiny
    simulations.limit = 8                            # all 6 of generation 1, two of generation 2
    with pytest.raises(KeyboardInterrupt):
        calibrate(load_study(spec), tmp_path / "out")
    assert not (tmp_path / "out" / "manifest.json").exists()
    simulations.clear()
    simulations.limit = None
    calibrate(load_study(spec), tmp_path / "out", resume=True)
    first = json.loads((whole / "manifest.json").read_text())["generations"]
    assert len(simulations) == first[1]["simulations"] - 2   # only generation 2, less the two stored
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "posterior.parquet"),
                                  pd.read_parquet(whole / "posterior.parquet"))


def test_a_finished_calibration_resumed_with_more_generations_goes_on(tiny, tmp_path, simulations,
                                                                     capsys):
    """Two generations, then the file with three and ``--resume``: only generation 3 is
    simulated, and the posterior is the one a three-generation run makes from the start.
    Fewer generations than the history holds is refused."""
    import shutil

    spec, whole = tiny
    raw = yaml.safe_load(spec.read_text())
    raw["method"]["generations"] = 3
    longer = spec.parent / "longer.yaml"
    longer.write_text(yaml.safe_dump(raw, sort_keys=False))
    straight = calibrate(load_study(longer), tmp_path / "straight")
    shutil.copytree(whole, tmp_path / "extended")
    simulations.clear()
    extended = calibrate(load_study(longer), tmp_path / "extended", resume=True)
    assert len(simulations) == straight.manifest["generations"][2]["simulations"]
    assert [g["generation"] for g in extended.manifest["generations"]] == [1, 2, 3]
    pd.testing.assert_frame_equal(extended.posterior, straight.posterior)
    raw["method"]["generations"] = 1
    shorter = spec.parent / "shorter.yaml"
    shorter.write_text(yaml.safe_dump(raw, sort_keys=False))
    before = sorted(p.name for p in (tmp_path / "extended").iterdir())
    capsys.readouterr()
    assert main(["calibrate", str(shorter), "--out", str(tmp_path / "extended"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "method.generations" in err and "at least 3" in err
    assert sorted(p.name for p in (tmp_path / "extended").iterdir()) == before


def test_a_particle_seed_depends_on_its_values_only():
    assert particle_seed(1, [0.3, 2.0]) == particle_seed(1, [0.3, 2.0])
    assert len({particle_seed(1, [0.3, 2.0]), particle_seed(2, [0.3, 2.0]),
                particle_seed(1, [0.3, 2.0000001])}) == 3


def test_weighted_quantiles_of_equal_weights_are_the_midpoint_rule():
    values = np.array([4.0, 1.0, 3.0, 2.0])
    assert weighted_quantiles(values, np.ones(4), (0.5,)) == [2.5]
    assert weighted_quantiles(values, np.array([0, 0, 0, 1.0]), (0.05, 0.95)) == [2.0, 2.0]


@pytest.mark.parametrize(("args", "phrase"), [
    (["--resume"], "was made by another calibration file"),
    ([], "a calibration history is already here"),
    (["--set", "seed=3"], "--set: not for calibrate"),
    (["--replications", "3"], "--replications: not for calibrate"),
])
def test_bad_calibrate_input_is_one_line_and_exit_2(tiny, tmp_path, capsys, args, phrase):
    spec, out = tiny
    changed = tmp_path / "changed.yaml"
    raw = yaml.safe_load(spec.read_text())
    raw["method"]["seed"] = 6
    changed.write_text(yaml.safe_dump(raw))
    before = sorted(p.name for p in out.iterdir())
    assert main(["calibrate", str(changed), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("govsim: error: ") and phrase in err
    assert sorted(p.name for p in out.iterdir()) == before


def test_resume_needs_a_history_and_a_scenario_is_not_a_calibration(tmp_path, capsys):
    assert main(["calibrate", str(SCENARIOS / "demo.yaml")]) == 2
    assert "is not a calibration file" in capsys.readouterr().err
    spec = tmp_path / "c.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "c", "scenarios": {"a": str(SCENARIOS / "demo.yaml")},
        "parameters": [{"key": "satisfaction.intercept", "prior": {"dist": "uniform", "low": 1, "high": 2}}],
        "targets": [{"scenario": "a", "kpi": "satisfaction_mean", "value": 0.8, "sd": 0.1, "source": "s"}]}))
    assert main(["calibrate", str(spec), "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "--resume" in capsys.readouterr().err and not (tmp_path / "none").exists()
    broken = tmp_path / "broken"                       # its fingerprint, but no history in the file
    broken.mkdir()
    (broken / "calibration.json").write_text(json.dumps(fingerprint(load_study(spec))))
    (broken / "history.db").write_text("not a database")
    assert main(["calibrate", str(spec), "--out", str(broken), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a readable calibration history" in err
    assert sorted(p.name for p in broken.iterdir()) == ["calibration.json", "history.db"]


def test_a_scaled_district_keeps_each_unit_s_load_and_counts_are_scaled_back(tmp_path):
    """At a quarter of its size the demo keeps its grids per community, its arrivals per
    resident and the leading group's agenda per resident; the arrivals target is compared
    with the count scaled back to the full district."""
    from sim.district import scaled

    demo = load_scenario(SCENARIOS / "demo.yaml")
    quarter = scaled(demo, 0.25)
    assert (quarter.district.grids, quarter.district.communities, quarter.district.streets) == (10, 2, 1)
    assert quarter.district.population == 10000 and quarter.process.grid_branches == 9
    assert quarter.levels.leadership.items_per_meeting == 2 and quarter.levels.platform.staff == 1
    assert quarter.arrivals == demo.arrivals and quarter.levels.street == demo.levels.street
    spec = spec_file(tmp_path, [{"scenario": "after", "kpi": "arrivals", "value": 700, "sd": 50,
                                 "source": "s"}], scale=0.5)
    model = ParticleModel(load_study(spec))
    stats = model(dict.fromkeys(PRIORS, 0.575) | {"satisfaction.intercept": 3.0})
    small = model.runs().scenarios["after"].with_overrides(
        {"seed": particle_seed(5, [3.0, 0.575, 0.575])})
    assert stats["arrivals@after"] == simulate_kpis(small, 0)["arrivals"] / 0.5


def bench_spec(tiny: tuple[Path, Path], tmp_path: Path, draws: int = 3) -> tuple[Any, Any]:
    from sim.tables import Bench, Spec

    spec, out = tiny
    root = spec.parent
    options = {"calibration": spec.name, "posterior": str((out / "posterior.parquet").relative_to(root)),
               "draws": draws, "as": ["before", "after"]}
    return Bench(root=root, work=tmp_path, jobs=1), Spec(("demo-legacy.yaml", "demo.yaml"), 1, 11, options)


def test_tables_from_a_stored_posterior_give_back_the_calibration_s_own(tiny, tmp_path):
    """The predictive, re-made from posterior.parquet alone (each particle on its own seed),
    is the calibration's predictive.csv number for number; so is the posterior table."""
    from sim.atomic import csv_text
    from sim.calibrated import particle_cells, particle_ids
    from sim.tables import MAKERS

    _, out = tiny
    bench, spec = bench_spec(tiny, tmp_path)
    assert csv_text(MAKERS["t10"](bench, spec)) == (out / "predictive.csv").read_text()
    whole = particle_cells(bench, spec, particle_ids(bench, spec))
    alone = particle_cells(bench, spec, ["001"])          # one particle is one cell, made alone
    pd.testing.assert_frame_equal(alone, whole[whole["particle"] == "001"].reset_index(drop=True))
    assert csv_text(MAKERS["t9"](bench, spec)) == (out / "posterior.csv").read_text()
    figure = MAKERS["f6"](bench, spec)
    assert list(figure.columns) == ["parameter", "value", "weight", "low", "high"] and len(figure) == 18


def test_one_posterior_draw_is_one_cell_re_made_alone(tiny, tmp_path):
    """T8 over three draws; draw 2 re-made by itself equals its row of the whole; the
    paired difference of the first scenario to itself is zero."""
    from sim.calibrated import draw_cells
    from sim.tables import MAKERS

    bench, spec = bench_spec(tiny, tmp_path)
    whole = draw_cells(bench, spec)
    alone = draw_cells(bench, spec, cells=["002"])
    pd.testing.assert_frame_equal(alone, whole[whole["draw"] == "002"].reset_index(drop=True))
    table = MAKERS["t8"](bench, spec)
    assert set(table["scenario"]) == {"demo-legacy", "demo"} and (table["draws"] == 3).all()
    first = table[table["scenario"] == "demo-legacy"]
    assert (first[["diff_median", "diff_q05", "diff_q95"]].fillna(0) == 0).all().all()
    bounces = table.set_index(["kpi", "scenario"]).loc[("bounces_mean", "demo")]
    assert bounces["median"] == 0 and bounces["diff_q95"] < 0     # whistle never bounces


@pytest.mark.parametrize(("jobs", "executor"), [(2, "local"), (2, "dask")])
def test_parallel_samplers_give_each_particle_the_kpis_of_its_own_values(tiny, tmp_path, jobs, executor,
                                                                          simulations):
    """Re-simulated alone, every particle of a parallel calibration's posterior gives back
    the predictive it wrote (a particle's KPIs depend on its values only). The local cores
    propose what one process proposes, so their posterior is the one-process posterior;
    pyabc's Dask sampler chooses particles in no fixed order."""
    from sim.atomic import csv_text
    from sim.tables import MAKERS

    spec, _ = tiny
    raw = yaml.safe_load(spec.read_text())
    raw["method"].update(population=4, generations=2)
    small = spec.parent / f"parallel-{executor}.yaml"
    small.write_text(yaml.safe_dump(raw))
    out = spec.parent / f"out-{executor}"
    result = calibrate(load_study(small), out, jobs=jobs, executor=executor)
    assert result.manifest["order_deterministic"] is (executor == "local") and len(result.posterior) == 4
    if executor == "local":          # one process, given the parallel run's particles: none is new
        import shutil

        shutil.copytree(out / "particles", spec.parent / "out-one-process" / "particles")
        simulations.clear()
        alone = calibrate(load_study(small), spec.parent / "out-one-process", jobs=1)
        pd.testing.assert_frame_equal(result.posterior, alone.posterior)
        assert simulations == []
    bench, table_spec = bench_spec((small, out), tmp_path)
    assert csv_text(MAKERS["t10"](bench, table_spec)) == (out / "predictive.csv").read_text()


def test_without_pyabc_calibrate_says_how_to_get_it(tiny, tmp_path, capsys, monkeypatch):
    spec, _ = tiny
    monkeypatch.setitem(__import__("sys").modules, "pyabc", None)      # import pyabc fails
    assert main(["calibrate", str(spec), "--out", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'govsim[calibrate]'" in err
    assert not (tmp_path / "none").exists()
