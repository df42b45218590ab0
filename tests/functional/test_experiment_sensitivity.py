"""``govsim sensitivity`` on the demo districts: a number that cannot matter gets mu* = 0
exactly (common random numbers across design points), a re-run resumes (on Dask) and gives
the same table, a published entry is made again exactly, and bad input writes nothing."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pandas as pd
import pytest
import yaml
from kit import SCENARIOS, write_study

from sim import atomic
from sim.cli import main
from sim.sensitivity import remake_point, sensitivity
from sim.study import load_study

UNVISITED = "levels.platform.resolve.mean"      # demo-legacy's route ends at the department


def spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "demo-screen",
        "scenarios": {"legacy": str(SCENARIOS / "demo-legacy.yaml")},
        "parameters": [
            {"key": UNVISITED, "prior": {"dist": "uniform", "low": 1.0, "high": 4.0}},
            {"key": "process.bounce.probability", "prior": {"dist": "uniform", "low": 0.2, "high": 0.9}},
        ],
        "outputs": [{"kpi": "resolved_share", "scenario": "legacy"},
                    {"kpi": "bounces_mean", "scenario": "legacy"}],
        "method": {"method": "morris", "budget": 3, "replications": 1, "seed": 4},
    }
    return base | changes


def test_a_number_no_complaint_meets_gets_mu_star_zero_and_a_rerun_resumes(tmp_path):
    study = load_study(write_study(tmp_path, spec()))
    out = tmp_path / "out"
    first = sensitivity(study, out, jobs=2)
    distinct = first.manifest["distinct_points"]          # of (k + 1) x 3: trajectories may meet
    assert first.manifest["design_points"] == 9 and (first.ran, first.skipped) == (distinct, 0)
    table = first.table.set_index(["output", "parameter"])
    for output in ("resolved_share@legacy", "bounces_mean@legacy"):
        assert table.loc[(output, UNVISITED)].tolist() == [0.0, 0.0, 0.0]
        assert table.loc[(output, "process.bounce.probability"), "mu_star"] > 0
    assert first.points[UNVISITED].nunique() > 1                  # it was moved, and nothing changed
    published = (out / "sensitivity.csv").read_bytes()
    stored = sorted((out / "points").glob("*.csv"))
    assert len(stored) == distinct
    stored[4].unlink()                                            # as if stopped before that point
    again = sensitivity(study, out, jobs=2, executor="dask")      # re-made on a Dask LocalCluster
    assert (again.ran, again.skipped) == (1, distinct - 1)
    assert (out / "sensitivity.csv").read_bytes() == published
    cell = remake_point(study, 5)                                 # one cell of a sampled reproduction
    assert atomic.csv_text(pd.DataFrame([cell])) == atomic.csv_text(
        pd.read_csv(out / "points.csv").loc[[5], list(cell)])
    made = json.loads((out / "manifest.json").read_text())
    assert made["kind"] == "sensitivity" and made["design_points"] == 9 and made["points_run"] == 1
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures == ["bounces_mean@legacy.png", "resolved_share@legacy.png"]


def test_the_command_writes_the_table_and_a_paired_difference(tmp_path, capsys):
    both = {"legacy": str(SCENARIOS / "demo-legacy.yaml"), "whistle": str(SCENARIOS / "demo.yaml")}
    data = spec(scenarios=both, outputs=[{"kpi": "resolved_share", "diff": ["legacy", "whistle"]}])
    data["parameters"][0]["scenarios"] = ["legacy"]
    data["parameters"][1]["scenarios"] = ["legacy"]
    out = tmp_path / "out"
    path = write_study(tmp_path, data)
    args = ["sensitivity", str(path), "--budget", "2", "--out", str(out), "--jobs", "2"]
    assert main(args) == 0
    assert "skipped 0 already finished" in capsys.readouterr().out
    table = pd.read_csv(out / "sensitivity.csv")
    assert list(table.columns) == ["output", "parameter", "mu_star", "mu_star_conf", "sigma"]
    assert table["output"].unique().tolist() == ["resolved_share@whistle-legacy"]
    stored = [pd.read_csv(f) for f in sorted((out / "points").glob("*.csv"))]
    whistle = [f[f["scenario"] == "whistle"].drop(columns="scenario") for f in stored]
    legacy = [f[f["scenario"] == "legacy"].drop(columns="scenario") for f in stored]
    # the parameters are legacy's alone: whistle runs the same complaints at every point
    assert all(w.equals(whistle[0]) for w in whistle)
    assert not all(x.equals(legacy[0]) for x in legacy)
    points = pd.read_csv(out / "points.csv")
    effect = sorted({float(w["resolved_share"].iloc[0] - x["resolved_share"].iloc[0])
                     for w, x in zip(whistle, legacy)})
    assert sorted(set(points["resolved_share@whistle-legacy"])) == pytest.approx(effect, abs=1e-12)


def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    path = write_study(tmp_path, spec())
    out = tmp_path / "out"
    assert main(["sensitivity", str(path), "--method", "sobol", "--budget", "6", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == ("govsim: error: --budget: 6 is not a power of two for sobol "
                   "(expected 2, 4, 8, 16, ... base samples)\n")
    calibration = write_study(tmp_path, {k: v for k, v in spec().items() if k not in ("outputs", "method")}
                        | {"targets": [{"scenario": "legacy", "kpi": "resolved_share", "value": 0.5,
                                        "sd": 0.1, "source": "assumption"}]})
    assert main(["sensitivity", str(calibration), "--out", str(out)]) == 2
    assert "is not a sensitivity file (expected top-level outputs)" in capsys.readouterr().err
    bad = write_study(tmp_path, spec(outputs=[{"kpi": "nonsense", "scenario": "legacy"}]))
    assert main(["sensitivity", str(bad), "--out", str(out)]) == 2
    assert "outputs.0.kpi: 'nonsense' is not a KPI of scenario legacy" in capsys.readouterr().err
    twice = write_study(tmp_path, spec(outputs=[{"kpi": "resolved_share", "scenario": "legacy"}] * 2))
    assert main(["sensitivity", str(twice), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "outputs.1: resolved_share@legacy is already an output (expected each once)" in err
    odd = write_study(tmp_path, spec(method={"method": "sobol", "budget": 12}))
    assert main(["check", str(odd)]) == 2
    assert capsys.readouterr().err.endswith("method.budget: 12 is not a power of two for sobol "
                                            "(expected 2, 4, 8, 16, ... base samples)\n")
    assert not out.exists()


def test_a_published_entry_is_made_again_exactly_and_its_figure_shares_the_points(tmp_path, capsys):
    shutil.copytree(SCENARIOS, tmp_path / "scenarios")
    (tmp_path / "sensitivity").mkdir()
    (tmp_path / "results").mkdir()
    relative = spec(scenarios={"legacy": "../scenarios/demo-legacy.yaml"})
    write_study(tmp_path / "sensitivity", relative, "demo.yaml")
    common = {"command": "govsim sensitivity sensitivity/demo.yaml", "replications": 1,
              "options": {"study": "sensitivity/demo.yaml", "budget": 2},
              "cells": "results/t6-demo-points.csv", "sample": {"cells": 2, "seed": 1}}
    entries = [{"name": "t6-demo", "title": "T6 demo", "kind": "table", "make": "t6",
                "file": "results/t6-demo.csv", **common},
               {"name": "f5-demo", "title": "F5 demo", "kind": "figure", "make": "f5",
                "file": "results/f5-demo.png", "data": "results/f5-demo.csv", **common}]
    entries[1]["options"] = common["options"] | {"outputs": ["bounces_mean@legacy"]}
    manifest = tmp_path / "results" / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"entries": entries}))
    work = tmp_path / "kept"
    kept_update = ["reproduce", "--manifest", str(manifest), "--update", "--jobs", "1", "--work", str(work)]
    assert main(kept_update) == 0
    (kept,) = work.glob("sensitivity-*/points")
    stored = {p.name: p.stat().st_mtime_ns for p in kept.iterdir()}
    assert stored                                               # the points stay in the kept folder
    assert main(kept_update) == 0
    assert {p.name: p.stat().st_mtime_ns for p in kept.iterdir()} == stored
    assert (tmp_path / "results" / "f5-demo.png").stat().st_size > 0
    figure = pd.read_csv(tmp_path / "results" / "f5-demo.csv")
    assert figure["output"].unique().tolist() == ["bounces_mean@legacy"] and len(figure) == 2
    assert len(pd.read_csv(tmp_path / "results" / "t6-demo.csv")) == 4
    points = pd.read_csv(tmp_path / "results" / "t6-demo-points.csv", dtype={"point": str})
    assert points["point"].tolist() == [f"{i:04d}" for i in range(len(points))]    # every design point
    assert main(["reproduce", "--manifest", str(manifest), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "2 entries reproduce" in out and "2 sampled cells and the table from the stored cells" in out
    points.loc[:, "bounces_mean@legacy"] += 1e-3              # a stored point that no longer holds
    points.to_csv(tmp_path / "results" / "t6-demo-points.csv", index=False)
    assert main(["reproduce", "--manifest", str(manifest), "--jobs", "1", "t6-demo"]) == 1
    assert "t6-demo: DOES NOT REPRODUCE" in capsys.readouterr().out
