"""Sweeps: every combination, one run folder each, and a crash costs only what was in flight."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import sim
from sim.cli import main
from sim.metrics import kpi_names

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "demo.yaml"
# the long-horizon combinations come last and take a second or more each, so a sweep killed
# when its first folder is finished still has combinations to do
VARY = {"horizon_days": ["120", "800"], "process.duplicate_contacts": ["0", "0.5"]}
FOLDERS = [f"horizon_days={h},process.duplicate_contacts={d}" for h in (120, 800) for d in (0, 0.5)]


def cli_args(out: Path) -> list[str]:
    vary = [arg for key, values in VARY.items() for arg in ("--vary", f"{key}={','.join(values)}")]
    return ["sweep", str(DEMO), *vary, "--replications", "2", "--jobs", "1", "--quiet", "--out", str(out)]


def manifests(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/manifest.json")}


def test_sweep_table_has_the_keys_then_each_kpi(tmp_path):
    scenario = sim.load_scenario(DEMO)
    vary = {"process.bounce.allowed": [True], "process.bounce.probability": [0.2, "0.8"]}
    result = sim.sweep(scenario, vary, out=tmp_path, replications=2, jobs=2)
    table = pd.read_csv(tmp_path / "sweep.csv")
    kpis = [f"{k}_{s}" for k in kpi_names(scenario) for s in ("mean", "ci_low", "ci_high")]
    assert list(table.columns) == ["process.bounce.allowed", "process.bounce.probability", *kpis]
    assert table["process.bounce.probability"].tolist() == [0.2, 0.8]
    assert result.ran == ["process.bounce.allowed=true,process.bounce.probability=0.2",
                          "process.bounce.allowed=true,process.bounce.probability=0.8"]
    summary = pd.read_csv(tmp_path / result.ran[1] / "summary.csv").set_index("kpi")
    assert table.loc[1, "bounces_mean_mean"] == summary.loc["bounces_mean", "mean"]
    assert table.loc[1, "bounces_mean_mean"] > table.loc[0, "bounces_mean_mean"] > 0
    again = sim.sweep(scenario, {**vary, "process.bounce.probability": [0.2, 0.8]}, out=tmp_path,
                      replications=2)
    assert again.ran == [] and len(again.skipped) == 2


def test_killed_sweep_resumes_without_rerunning_finished_combinations(tmp_path):
    reference = sim.sweep(sim.load_scenario(DEMO), VARY, out=tmp_path / "reference", replications=2, jobs=2)
    assert reference.ran == FOLDERS
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "sim", *cli_args(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not manifests(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = manifests(out)
    assert before and len(before) < len(FOLDERS), "the sweep was not stopped part way"
    assert not (out / "sweep.csv").exists()

    assert main(cli_args(out)) == 0
    after = manifests(out)
    assert sorted(after) == sorted(FOLDERS)
    assert {name: after[name] for name in before} == before  # finished ones were not run again
    assert (out / "sweep.csv").read_bytes() == (tmp_path / "reference" / "sweep.csv").read_bytes()
    for folder in FOLDERS:
        assert ((out / folder / "complaints.parquet").read_bytes()
                == (tmp_path / "reference" / folder / "complaints.parquet").read_bytes())
        assert not list((out / folder).glob(".*.tmp"))


def test_unfinished_or_stale_folders_are_run_again(tmp_path):
    scenario = sim.load_scenario(DEMO)
    vary = {"process.duplicate_contacts": [0, 0.5, 1]}
    sim.sweep(scenario, vary, out=tmp_path, replications=1)
    first, second, third = (tmp_path / f"process.duplicate_contacts={v}" for v in (0, 0.5, 1))
    shutil.rmtree(second)  # as if killed while it was built beside its final name
    staging = tmp_path / f".{second.name}.govsim-new-abc"
    staging.mkdir()
    (staging / ".complaints.parquet.abc.tmp").write_bytes(b"half a file")
    manifest = json.loads((third / "manifest.json").read_text())
    manifest["scenario_sha256"] = "0" * 64  # made by another version of the scenario
    (third / "manifest.json").write_text(json.dumps(manifest))
    result = sim.sweep(scenario, vary, out=tmp_path, replications=1)
    assert result.skipped == [first.name] and result.ran == [second.name, third.name]
    assert not staging.exists() and not list(second.glob(".*.tmp"))
