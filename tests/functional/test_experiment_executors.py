"""Serial equals parallel: the tables do not depend on --jobs, the executor or the finishing
order of replications, and a run folder is whole or absent."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.executors import ordered
from sim.experiment import write_run
from sim.runfolder import RunWriter

ROOT = Path(__file__).resolve().parents[2]
DEMO = str(ROOT / "scenarios" / "demo.yaml")
TABLES = ("complaints.parquet", "kpis.csv", "summary.csv", "utilization.csv", "scenario.yaml")


def tables(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


@pytest.fixture(scope="module")
def dask_scheduler():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_jobs_and_executors_give_identical_tables(tmp_path, dask_scheduler):
    common = ["run", DEMO, "--replications", "3", "--quiet"]
    assert main([*common, "--jobs", "1", "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--jobs", "2", "--out", str(tmp_path / "two")]) == 0
    assert main([*common, "--executor", "dask", "--scheduler", dask_scheduler,
                 "--out", str(tmp_path / "dask")]) == 0
    one = tables(tmp_path / "one")
    assert tables(tmp_path / "two") == one
    assert tables(tmp_path / "dask") == one
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["replications"] == 3


def test_dask_scheduler_from_the_environment(tmp_path, dask_scheduler, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_scheduler)
    scenario = sim.load_scenario(DEMO)
    write_run(scenario, tmp_path / "env", replications=2, executor="dask")
    write_run(scenario, tmp_path / "local", replications=2, jobs=1)
    assert tables(tmp_path / "env") == tables(tmp_path / "local")


def test_in_memory_run_saves_the_same_folder(tmp_path):
    scenario = sim.load_scenario(DEMO)
    result = sim.run(scenario, replications=3, jobs=2)
    result.save(tmp_path / "saved")
    write_run(scenario, tmp_path / "streamed", replications=3, jobs=1)
    assert tables(tmp_path / "saved") == tables(tmp_path / "streamed")
    assert pd.read_parquet(tmp_path / "streamed" / "complaints.parquet").equals(result.complaints)


def _slow_first(i: int) -> int:
    time.sleep(0.3 if i == 0 else 0.0)
    return i


def test_results_come_in_task_order_with_a_bounded_window():
    consumed: list[int] = []

    def tasks():
        for i in range(12):
            consumed.append(i)
            yield (i,)

    stream = ordered(_slow_first, tasks(), jobs=2, window=4)
    assert next(stream) == 0
    assert len(consumed) <= 4 + 1  # the window, plus the one the generator looked at
    assert list(stream) == list(range(1, 12))


def test_a_failed_run_leaves_no_table_and_no_manifest(tmp_path):
    scenario = sim.load_scenario(DEMO)
    rep = sim.run(scenario, replications=1)
    with pytest.raises(RuntimeError), RunWriter(tmp_path, scenario) as writer:
        writer.add(rep.complaints, rep.kpis.iloc[0].to_dict(), rep.utilization)
        raise RuntimeError("crash in the middle of a run")
    assert list(tmp_path.iterdir()) == []


def test_target_halfwidth_adds_replications_independently_of_jobs(tmp_path, capsys):
    target = ["--target-halfwidth", "days_to_close_mean=0.6", "--max-replications", "30"]
    assert main(["run", DEMO, *target, "--jobs", "1", "--out", str(tmp_path / "one")]) == 0
    printed = capsys.readouterr().out
    assert main(["run", DEMO, *target, "--jobs", "2", "--quiet", "--out", str(tmp_path / "two")]) == 0
    assert tables(tmp_path / "one") == tables(tmp_path / "two")
    rule = json.loads((tmp_path / "one" / "manifest.json").read_text())["replication_rule"]
    assert rule["met"] and rule["targets"]["days_to_close_mean"]["halfwidth"] <= 0.6
    assert rule["replications"] == rule["met_from"] + 5
    assert 3 <= rule["met_from"] < 30
    assert f"{rule['replications']} replications" in printed and "target met" in printed


def test_target_halfwidth_stops_at_the_cap(tmp_path, capsys):
    assert main(["run", DEMO, "--target-halfwidth", "arrivals=0.001", "--max-replications", "4",
                 "--jobs", "1", "--out", str(tmp_path)]) == 0
    assert "NOT met" in capsys.readouterr().out
    kpis = pd.read_csv(tmp_path / "kpis.csv")
    assert kpis["replication"].tolist() == [0, 1, 2, 3]
    assert json.loads((tmp_path / "manifest.json").read_text())["replication_rule"]["met"] is False
