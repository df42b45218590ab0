"""govsim warmup: a suggestion on the terminal, a plot and the series on disk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import sim
from sim.cli import main
from sim.warmup import daily, mser, warmup

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "scenarios" / "demo.yaml")


def test_warmup_prints_a_suggestion_and_writes_a_plot(tmp_path, capsys):
    assert main(["warmup", DEMO, "--replications", "2", "--jobs", "1", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "suggested warmup_days: " in printed
    assert (tmp_path / "warmup.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    series = pd.read_csv(tmp_path / "warmup.csv")
    assert list(series.columns) == ["day", "value", "batch_mean"]
    cut = int(printed.split("suggested warmup_days: ")[1].split()[0])
    assert cut == mser(series["value"].to_numpy()) and cut % 5 == 0


def test_backlog_starts_empty_and_fills(tmp_path):
    scenario = sim.load_scenario(DEMO)
    result = warmup(scenario, replications=2, measure="backlog")
    backlog = result.series["value"].to_numpy()
    assert len(backlog) == scenario.horizon_days
    assert backlog[0] < backlog[30:].mean()
    one = sim.run(scenario, replications=1).complaints
    day = 50
    still_open = ((one["arrival_day"] <= day) & ~(one["closed_day"] <= day)).sum()
    assert daily(one, scenario, "backlog")[day - 1] == still_open
