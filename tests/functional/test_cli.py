"""The command line: bad input is one line on stderr, exit 2, nothing written; a good run
writes every file of the design with exactly the documented columns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kit import BROKEN, DEMO, ROOT, tiny_raw

from sim.cli import main
from sim.config import LEVELS, load_scenario
from sim.experiment import VERSIONED
from sim.metrics import kpi_names
from sim.records import process_mining_log

COMPLAINT_COLUMNS = ["replication", "complaint_id", "arrival_day", "grid", "community", "street",
                     "category", "needs", "unclear", "entry_level", "outcome", "closed_day", "days_open",
                     "resolved_level", "handoffs", "bounces", "contacts", "reopens", "wait_days",
                     "lead_days", "in_cohort", "satisfied_p"]
ACTIVITIES = ["arrive", "queue", "start", "handoff", "escalate", "bounce", "resolve", "stall",
              "follow_up", "abandon", "reopen"]


def write_scenario(tmp_path: Path, raw: dict, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def fails(capsys, args: list[str], out: Path) -> str:
    """Run the command, expect bad-input handling, and return its one stderr line."""
    code = main(args)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("govsim: error: ")
    assert "Traceback" not in captured.err
    assert not out.exists()
    return lines[0]


# --------------------------------------------------------------------------- bad scenarios
@pytest.mark.parametrize(("change", "key", "phrase"),
                         [pytest.param(*case[1:], id=case[0]) for case in BROKEN])
def test_run_with_a_broken_scenario(tmp_path, capsys, change, key, phrase):
    raw = tiny_raw()
    change(raw)
    path = write_scenario(tmp_path, raw)
    out = tmp_path / "out"
    line = fails(capsys, ["run", str(path), "--out", str(out), "--replications", "1", "--quiet"], out)
    assert line.startswith(f"govsim: error: {path}: {key}: ")
    assert phrase in line


@pytest.mark.parametrize(("text", "phrase"), [
    pytest.param("name: x\n  bad: [1,\n", ": line 2: not valid YAML", id="bad-yaml"),
    pytest.param("- a\n- b\n", ": expected a mapping of scenario keys", id="not-a-mapping"),
    pytest.param("", ": expected a mapping of scenario keys", id="empty"),
])
def test_run_with_an_unreadable_file(tmp_path, capsys, text, phrase):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    line = fails(capsys, ["run", str(path), "--out", str(out)], out)
    assert line.startswith(f"govsim: error: {path}{phrase}")


def test_run_with_a_missing_file(tmp_path, capsys):
    out = tmp_path / "out"
    line = fails(capsys, ["run", str(tmp_path / "nowhere.yaml"), "--out", str(out)], out)
    assert line == f"govsim: error: {tmp_path / 'nowhere.yaml'}: no such file (expected a scenario YAML file)"


def test_check_with_a_broken_scenario(tmp_path, capsys):
    raw = tiny_raw()
    raw["process"]["route"] = ["department", "street"]
    path = write_scenario(tmp_path, raw)
    line = fails(capsys, ["check", str(path)], tmp_path / "never")
    assert line.startswith(f"govsim: error: {path}: process.route: ")


# --------------------------------------------------------------------------- bad flags
@pytest.fixture()
def good(tmp_path):
    return write_scenario(tmp_path, tiny_raw(), "good.yaml")


@pytest.mark.parametrize(("flags", "phrase"), [
    pytest.param(["--jobs", "0"], "--jobs: 0 is out of range", id="jobs-0"),
    pytest.param(["--jobs", "two"], "--jobs: 'two' is not a whole number", id="jobs-text"),
    pytest.param(["--replications", "x"], "--replications: 'x' is not a whole number", id="replications-x"),
    pytest.param(["--replications", "0"], "--replications: 0 is out of range", id="replications-0"),
    pytest.param(["--seed", "-3"], "--seed: '-3' is not valid", id="seed-negative"),
    pytest.param(["--frobnicate"], "unrecognized arguments: --frobnicate", id="unknown-flag"),
    pytest.param(["--executor", "spark"], "invalid choice: 'spark'", id="unknown-executor"),
    pytest.param(["--set", "process.bounce.probability"], "process.bounce.probability: expected KEY=VALUE",
                 id="set-without-equals"),
    pytest.param(["--set", "process.bounce.probability=2"], "process.bounce.probability: 2 is out of range",
                 id="set-out-of-range"),
    pytest.param(["--set", "process.bounc.probability=0.1"], "process.bounc: unknown key",
                 id="set-unknown-key"),
    pytest.param(["--set", "categories.4.weight=1"], "categories.4: expected a list index",
                 id="set-bad-index"),
    pytest.param(["--set", "seed=[1"], "seed: value '[1' is not valid YAML", id="set-bad-yaml"),
])
def test_run_with_bad_flags(tmp_path, capsys, good, flags, phrase):
    out = tmp_path / "out"
    line = fails(capsys, ["run", str(good), "--out", str(out), "--quiet", *flags], out)
    assert phrase in line


def test_run_without_a_scenario(tmp_path, capsys):
    line = fails(capsys, ["run", "--out", str(tmp_path / "out")], tmp_path / "out")
    assert "required" in line and "scenario" in line


def test_unknown_command(tmp_path, capsys):
    assert "invalid choice: 'frob'" in fails(capsys, ["frob"], tmp_path / "out")


def test_out_is_a_file(tmp_path, capsys, good):
    out = tmp_path / "taken"
    out.write_text("")
    assert main(["run", str(good), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"govsim: error: --out: {out}: is a file (expected a folder)"]
    assert out.read_text() == ""


def test_out_inside_a_file(tmp_path, capsys, good):
    """A folder cannot be made under a file: say so before running, not after."""
    taken = tmp_path / "taken"
    taken.write_text("")
    line = fails(capsys, ["run", str(good), "--out", str(taken / "sub"), "--quiet"], taken / "sub")
    assert line == f"govsim: error: --out: {taken}: is a file (expected a folder)"


def test_broken_scenario_through_a_subprocess(tmp_path):
    """As a user sees it: `python -m sim run`, exit 2, one line, no traceback, no folder."""
    raw = tiny_raw()
    raw["process"]["bounce"]["probability"] = 1.5
    path = write_scenario(tmp_path, raw)
    out = tmp_path / "out"
    path_list = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path_list)}
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"govsim: error: {path}: process.bounce.probability: "
        "1.5 is out of range (expected a value at most 1.0)"]
    assert not out.exists()


# --------------------------------------------------------------------------- good runs
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """`govsim run scenarios/demo.yaml --replications 2 --out tmp`, as documented."""
    out = tmp_path_factory.mktemp("run") / "tmp"
    assert main(["run", str(DEMO), "--replications", "2", "--out", str(out), "--quiet"]) == 0
    return out


def test_run_writes_every_file(demo_run):
    assert sorted(p.name for p in demo_run.iterdir()) == [
        "complaints.parquet", "kpis.csv", "manifest.json", "scenario.yaml", "summary.csv", "utilization.csv"]


def test_complaints_parquet_columns(demo_run):
    c = pd.read_parquet(demo_run / "complaints.parquet")
    assert c.columns.tolist() == COMPLAINT_COLUMNS
    assert sorted(c["replication"].unique()) == [0, 1]
    assert set(c["outcome"].astype(str)) <= {"resolved", "abandoned", "open"}
    assert set(c["needs"].astype(str)) <= set(LEVELS)


def test_kpis_and_summary_columns(demo_run):
    scenario = load_scenario(DEMO)
    kpis = pd.read_csv(demo_run / "kpis.csv")
    assert kpis.columns.tolist() == ["replication", *kpi_names(scenario)]
    assert kpis["replication"].tolist() == [0, 1]
    summary = pd.read_csv(demo_run / "summary.csv")
    assert summary.columns.tolist() == ["kpi", "mean", "std", "ci_low", "ci_high", "replications"]
    assert summary["kpi"].tolist() == kpi_names(scenario)
    row = summary.set_index("kpi").loc["resolved_share"]
    assert row["mean"] == pytest.approx(kpis["resolved_share"].mean())
    assert row["ci_low"] < row["mean"] < row["ci_high"] and row["replications"] == 2


def test_utilization_columns(demo_run):
    u = pd.read_csv(demo_run / "utilization.csv")
    assert u.columns.tolist() == ["replication", "level", "staff_days", "busy_days", "utilization",
                                  "mean_queue"]
    assert set(u["level"]) <= set(LEVELS)
    assert set(u["level"]) >= set(load_scenario(DEMO).process.route)


def test_manifest_and_resolved_scenario(demo_run):
    manifest = json.loads((demo_run / "manifest.json").read_text())
    for key in ("name", "scenario_sha256", "seed", "replications", "wall_seconds"):
        assert key in manifest
    assert set(VERSIONED) | {"python"} <= set(manifest["versions"])
    assert "git_commit" in manifest
    assert (manifest["name"], manifest["seed"], manifest["replications"]) == ("demo", 7, 2)
    resolved = load_scenario(demo_run / "scenario.yaml")
    assert resolved.sha256() == manifest["scenario_sha256"] == load_scenario(DEMO).sha256()
    text = yaml.safe_load((demo_run / "scenario.yaml").read_text())
    assert "guide_effect" in text["process"] and "satisfaction" in text      # defaults filled in


def test_run_with_events_and_overrides(tmp_path, capsys):
    out = tmp_path / "events"
    code = main(["run", str(DEMO), "--replications", "1", "--jobs", "1", "--out", str(out), "--events",
                 "--seed", "3", "--set", "horizon_days=120", "--quiet"])
    assert code == 0
    assert capsys.readouterr().out == ""
    events = pd.read_parquet(out / "events.parquet")
    assert events.columns.tolist() == ["replication", "complaint_id", "day", "activity", "level", "unit"]
    assert events["activity"].cat.categories.tolist() == ACTIVITIES
    assert {"arrive", "queue", "start", "handoff", "escalate", "resolve", "follow_up"} <= set(
        events["activity"].astype(str))
    assert events["day"].max() < 120
    log = process_mining_log(events)
    assert log.columns.tolist() == ["case:concept:name", "concept:name", "time:timestamp", "org:resource"]
    assert len(log) == len(events) and log["case:concept:name"].nunique() == events["complaint_id"].nunique()
    assert (log["time:timestamp"] >= pd.Timestamp("2020-01-01")).all()
    resolved = load_scenario(out / "scenario.yaml")
    assert (resolved.seed, resolved.horizon_days) == (3, 120)


def test_run_prints_a_summary_and_no_progress_bar_when_piped(tmp_path, capsys, good):
    assert main(["run", str(good), "--replications", "1", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.startswith("tiny: 1 replications")
    assert f"wrote {tmp_path / 'o'}/" in captured.out


def test_check_prints_the_resolved_scenario(capsys):
    assert main(["check", str(DEMO), "--set", "process.bounce.probability=0.3"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["process"]["bounce"]["probability"] == 0.3
    assert printed["district"]["grids"] == 40
    assert set(printed["levels"]) == set(LEVELS)
