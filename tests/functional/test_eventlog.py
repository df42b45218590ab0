"""The event log export, read back by pm4py as a process-mining tool would read it: its cases,
variants and directly-follows graph agree with the complaint table of the same run."""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from kit import SCENARIOS

import sim
from sim.cli import main
from sim.eventlog import event_log

pm4py = pytest.importorskip("pm4py", reason="pm4py is in the test extra: pip install -e '.[test]'")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The legacy demo (bounces, stalls, abandonments, open complaints), short, with events."""
    scenario = sim.load_scenario(SCENARIOS / "demo-legacy.yaml", {
        "horizon_days": 90, "warmup_days": 10, "cooldown_days": 20})
    out = tmp_path_factory.mktemp("eventlog") / "run"
    sim.run(scenario, replications=2, events=True).save(out)
    return out


@pytest.fixture(scope="module")
def complaints(run_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "complaints.parquet")


@pytest.fixture(scope="module")
def xes(run_dir: Path) -> pd.DataFrame:
    assert main(["events", str(run_dir), "--format", "xes", "--out", str(run_dir / "log.xes")]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.read_xes(str(run_dir / "log.xes"), show_progress_bar=False)


def test_one_case_per_complaint_and_replication(xes: pd.DataFrame, complaints: pd.DataFrame) -> None:
    assert xes["case:concept:name"].nunique() == len(complaints)
    first = xes.groupby("case:concept:name", sort=False).first()
    assert Counter(first["case:outcome"]) == Counter(complaints["outcome"].astype(str))


def test_variants_carry_the_complaint_table_counts(xes: pd.DataFrame, complaints: pd.DataFrame) -> None:
    variants = pm4py.get_variants(xes)
    assert sum(variants.values()) == len(complaints)
    ends: Counter[str] = Counter()
    bounces: Counter[int] = Counter()
    for trace, count in variants.items():
        ends[trace[-1]] += count
        bounces[sum(a.startswith("bounce@") for a in trace)] += count
    assert bounces == Counter(complaints["bounces"].tolist())
    assert max(bounces) > 0, "the legacy demo should bounce some complaints"
    resolved = complaints[complaints["outcome"] == "resolved"]
    expected = Counter(f"resolve@{lv}" for lv in resolved["resolved_level"].astype(str))
    assert {a: n for a, n in ends.items() if a.startswith("resolve@")} == expected
    outcome = Counter(complaints["outcome"].astype(str))
    assert sum(n for a, n in ends.items() if a.startswith("open@")) == outcome["open"] > 0
    assert sum(n for a, n in ends.items() if a.startswith("abandon@")) == outcome["abandoned"]


def test_directly_follows_graph(xes: pd.DataFrame, complaints: pd.DataFrame) -> None:
    dfg, start, end = pm4py.discover_dfg(xes)
    assert start == dict(Counter(f"arrive@{lv}" for lv in complaints["entry_level"].astype(str)))
    assert sum(dfg.values()) == len(xes) - len(complaints)
    assert sum(end.values()) == len(complaints)
    # the map shows the path up the hierarchy, level by level
    assert dfg[("escalate@community", "handoff@street")] > 0
    assert dfg[("escalate@street", "handoff@department")] > 0
    assert dfg[("bounce@department", "handoff@street")] > 0


def test_csv_and_parquet_sorted_by_case_then_time(run_dir: Path, tmp_path: Path) -> None:
    assert main(["events", str(run_dir), "--format", "csv", "--out", str(tmp_path / "log.csv")]) == 0
    assert main(["events", str(run_dir), "--format", "parquet", "--out", str(tmp_path / "log.parquet")]) == 0
    csv = pd.read_csv(tmp_path / "log.csv")
    parquet = pd.read_parquet(tmp_path / "log.parquet")
    assert list(csv.columns[:4]) == ["case:concept:name", "concept:name", "time:timestamp", "org:resource"]
    assert csv["concept:name"].tolist() == parquet["concept:name"].tolist()
    keys = list(zip(parquet["replication"], parquet["complaint_id"], parquet["day"]))
    assert keys == sorted(keys)
    units = r"(grid|community|street|department|platform|leadership)-\d+"
    assert parquet["org:resource"].str.fullmatch(units).all()
    assert (event_log(run_dir)["concept:name"] == parquet["concept:name"]).all()


def test_a_run_without_events_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = sim.load_scenario(SCENARIOS / "demo.yaml", {"horizon_days": 60, "warmup_days": 5,
                                                           "cooldown_days": 5})
    sim.run(scenario, replications=1).save(tmp_path / "run")
    assert main(["events", str(tmp_path / "run"), "--format", "xes"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"govsim: error: {tmp_path / 'run'}: events.parquet: missing "
                   "(expected a run made with --events)"]
    assert not (tmp_path / "run" / "eventlog.xes").exists()
