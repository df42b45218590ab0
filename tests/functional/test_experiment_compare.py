"""Common random numbers: scenarios compared on the same complaints, paired differences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import sim
from sim.cli import main
from sim.comparison import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "demo.yaml"
LEGACY = {  # the legacy process keys of shibei-2019-legacy.yaml, on the demo district
    "name": "demo-legacy",
    "process.route": ["community", "street", "department"],
    "process.grid_branches": 0,
    "process.guides": 0,
    "process.escalation_delay": {"dist": "lognormal", "mean": 2.0, "cv": 1.0},
    "process.bounce.allowed": True,
    "process.top_resolves_all": False,
    "process.duplicate_contacts": 0.5,
}


def welch_halfwidth(x: np.ndarray, y: np.ndarray) -> float:
    """95% half-width of the difference of two means, as if the samples were independent."""
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    return float(stats.t.ppf(0.975, df) * np.sqrt(vx + vy))


def test_paired_interval_is_narrower_than_the_unpaired_one():
    whistle = sim.load_scenario(DEMO)
    legacy = whistle.with_overrides(LEGACY)
    result = sim.compare([legacy, whistle], replications=6, jobs=2)
    a, b = (result.kpis[n]["days_to_close_mean"].to_numpy() for n in ("demo-legacy", "demo"))
    row = result.table.set_index(["kpi", "scenario"]).loc[("days_to_close_mean", "demo")]
    paired = (row["diff_ci_high"] - row["diff_ci_low"]) / 2
    assert row["diff"] == np.mean(b - a)
    assert paired < welch_halfwidth(a, b)
    # the same residents with the same problems in both scenarios, replication by replication
    assert result.kpis["demo"]["arrivals"].tolist() == result.kpis["demo-legacy"]["arrivals"].tolist()


def test_compare_writes_comparison_and_a_run_folder_per_scenario(tmp_path, capsys):
    whistle = sim.load_scenario(DEMO)
    legacy_file = tmp_path / "legacy.yaml"
    legacy_file.write_text(whistle.with_overrides({**LEGACY, "seed": 99}).to_yaml())
    out = tmp_path / "cmp"
    assert main(["compare", str(legacy_file), str(DEMO), "--replications", "3", "--jobs", "2",
                 "--out", str(out)]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert tuple(table.columns) == COLUMNS
    assert table["scenario"].tolist()[:2] == ["demo-legacy", "demo"]
    assert table.groupby("kpi", sort=False).size().eq(2).all()
    assert table.loc[table["scenario"] == "demo-legacy", "diff"].isna().all()
    for name in ("demo-legacy", "demo"):
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert manifest["seed"] == 99 and manifest["replications"] == 3  # the first one's seed
    printed = capsys.readouterr().out
    bounces = table.set_index(["kpi", "scenario"]).loc[("bounces_mean", "demo")]
    assert bounces["diff_ci_high"] < 0
    line = next(ln for ln in printed.splitlines()[printed.splitlines().index("bounces_mean"):]
                if ln.strip().startswith("demo "))
    assert line.rstrip().endswith("*")


def test_compare_reruns_in_the_same_order_for_any_jobs(tmp_path):
    whistle = sim.load_scenario(DEMO)
    legacy = whistle.with_overrides(LEGACY)
    one = sim.compare([legacy, whistle], replications=2, jobs=1, out=tmp_path / "one")
    two = sim.compare([legacy, whistle], replications=2, jobs=2, out=tmp_path / "two")
    assert one.table.equals(two.table)
    for name in ("comparison.csv", "demo/complaints.parquet", "demo-legacy/complaints.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_compare_with_a_target_halfwidth(tmp_path, capsys):
    legacy_file = tmp_path / "legacy.yaml"
    legacy_file.write_text(sim.load_scenario(DEMO).with_overrides(LEGACY).to_yaml())
    assert main(["compare", str(legacy_file), str(DEMO), "--target-halfwidth", "bounces_mean=0.02",
                 "--max-replications", "12", "--jobs", "1", "--out", str(tmp_path / "cmp")]) == 0
    assert "half-width" in capsys.readouterr().out
    rule = json.loads((tmp_path / "cmp" / "demo" / "manifest.json").read_text())["replication_rule"]
    kpis = pd.read_csv(tmp_path / "cmp" / "demo-legacy" / "kpis.csv")
    assert len(kpis) == rule["replications"] <= 12
