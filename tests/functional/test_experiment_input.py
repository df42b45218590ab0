"""Bad --vary, --target-halfwidth and compare input: one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "scenarios" / "demo.yaml")


@pytest.mark.parametrize(("args", "expected"), [
    (["sweep", DEMO, "--vary", "process.bounce.probability"],
     "--vary: process.bounce.probability: expected KEY=V1,V2"),
    (["sweep", DEMO, "--vary", "process.bounce.probability=0.2,,0.4"], "has an empty value"),
    (["sweep", DEMO, "--vary", "process.bounce.probability=0.2,0.2"], "repeats a value"),
    (["sweep", DEMO, "--vary", "process.bounce.probability=0.2,1.5"],
     "--vary: process.bounce.probability: 1.5 is out of range"),
    (["sweep", DEMO, "--vary", "process.bounse.probability=0.2"], "--vary: process.bounse: unknown key"),
    (["sweep", DEMO, "--vary", "seed=1,2", "--vary", "seed=3"], "--vary: seed: given twice"),
    (["sweep", DEMO], "the following arguments are required: --vary"),
    (["run", DEMO, "--target-halfwidth", "days_to_close=0.5"],
     "--target-halfwidth: days_to_close: unknown KPI"),
    (["run", DEMO, "--target-halfwidth", "days_to_close_mean"], "expected KPI=VALUE"),
    (["run", DEMO, "--target-halfwidth", "days_to_close_mean=abc"], "'abc' is not a number"),
    (["run", DEMO, "--target-halfwidth", "days_to_close_mean=0"], "0.0 is out of range"),
    (["run", DEMO, "--target-halfwidth", "days_to_close_mean=0.5", "--replications", "9",
      "--max-replications", "5"], "--max-replications: 5 is below the 9 replications"),
    (["run", DEMO, "--max-replications", "5"], "--max-replications: only with --target-halfwidth"),
    (["compare", DEMO, "--target-halfwidth", "x=1"], "compare: 1 scenario given (expected at least 2)"),
    (["compare", DEMO, DEMO], "'demo' appears twice"),
    (["compare", DEMO, "nowhere.yaml"], "nowhere.yaml: no such file"),
    (["warmup", DEMO, "--measure", "queue"], "--measure: invalid choice"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(args, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main([*args, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("govsim: error: ")
    assert expected in captured.err
    assert not out.exists() and list(tmp_path.iterdir()) == []
